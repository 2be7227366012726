"""``{% shared %}…{% endshared %}``: a part of a page that is the same for every shopper and
request in one language (the page's frame: head links, logo, search box, icons, the language
buttons, the footer), rendered once per process and language and then copied.

The base template is on every page and was a third of a page's CPU time, most of it in parts
that never change. A shared part cannot show anything of a request: it is rendered with only the
names in ``SHARED_NAMES`` (no user, no CSRF token, no query, no counts), so a per-shopper value
put inside by mistake renders empty rather than leaking to the next shopper, and blocks (which
pages fill) are refused inside it. The copies are dropped when settings change (tests), and a
template reloaded in development is new nodes with no copies.

``{% shared line %}…{% endshared %}`` is a part drawn from values as well (a cart line; the
category bar from ``menu_categories`` and the page's ``category``): one copy per language and
values, each of which must be a frozen dataclass (or None, when the page has none), so that the
copy's key is everything it can show (a model instance's key would be its id alone). Each such
part keeps the latest ``KEPT_PER_VALUE`` copies."""

from __future__ import annotations

import weakref
from typing import Any

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import loader_tags
from django.template.base import Node, NodeList, Parser, TextNode, Token
from django.template.context import Context
from django.template.loader_tags import BLOCK_CONTEXT_KEY, BlockContext, BlockNode, ExtendsNode
from django.utils.functional import LazyObject, empty
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()

# What a shared part may read from the page's context: the same for every request.
SHARED_NAMES = ("shop_name", "currency", "currency_code", "quantity_message", "js_strings")

KEPT_PER_VALUE = 2000

_NODES: weakref.WeakSet[SharedNode] = weakref.WeakSet()


class SharedNode(Node):
    # Not walked when Django looks for nodes in a template (``{% extends %}`` looks for the
    # parent's blocks on every render): a shared part holds no block (refused when parsed).
    child_nodelists = ()

    def __init__(self, nodelist: NodeList, by: tuple[str, ...] = ()) -> None:
        self.nodelist = nodelist
        self.by = by
        self.copies: dict[object, SafeString] = {}
        _NODES.add(self)

    def render(self, context: Context) -> SafeString:
        values: dict[str, Any] = {}
        key: object = get_language()
        if self.by:
            for name in self.by:
                value = context.get(name)
                if isinstance(value, LazyObject):  # a context processor's lazy value: its own
                    if value._wrapped is empty:  # (the key must not hold the request's closure)
                        value._setup()
                    value = value._wrapped
                params = getattr(value, "__dataclass_params__", None)
                if value is not None and (params is None or not params.frozen):
                    raise TypeError(f"{{% shared {name} %}} needs a frozen dataclass")
                values[name] = value
            key = (key, *values.values())
        html = self.copies.get(key)
        if html is None:
            values.update((name, context.get(name)) for name in SHARED_NAMES)
            html = mark_safe(self.nodelist.render(context.new(values)))  # noqa: S308
            if len(self.copies) >= KEPT_PER_VALUE:
                oldest = next(iter(self.copies), None)
                if oldest is not None:
                    self.copies.pop(oldest, None)  # another thread may have taken it
            self.copies[key] = html
        return html


@register.tag("shared")
def shared(parser: Parser, token: Token) -> SharedNode:
    """``{% shared %}`` or ``{% shared <name> ... %}`` (see above)."""
    bits = token.split_contents()
    nodelist = parser.parse(("endshared",))
    parser.delete_first_token()
    if nodelist.get_nodes_by_type(BlockNode):
        raise template.TemplateSyntaxError("{% shared %} cannot hold a {% block %}")
    return SharedNode(nodelist, tuple(bits[1:]))


class KeptBlocksExtendsNode(ExtendsNode):
    """``{% extends %}`` as Django's, but the root template's blocks are found once per compiled
    template: Django walks every node of base.html for them on each page (a tenth of a
    millisecond or more, for the same answer each time)."""

    def render(self, context: Context) -> SafeString:
        compiled_parent = self.get_parent(context)
        if BLOCK_CONTEXT_KEY not in context.render_context:
            context.render_context[BLOCK_CONTEXT_KEY] = BlockContext()
        block_context = context.render_context[BLOCK_CONTEXT_KEY]
        block_context.add_blocks(self.blocks)
        root_blocks = _root_blocks(compiled_parent)
        if root_blocks is not None:
            block_context.add_blocks(root_blocks)
        with context.render_context.push_state(compiled_parent, isolated_context=False):
            return compiled_parent._render(context)  # type: ignore[attr-defined]


# By compiled template: its blocks when it is a root (extends nothing), else None.
_ROOT_BLOCKS: weakref.WeakKeyDictionary[Any, dict[str, BlockNode] | None] = (
    weakref.WeakKeyDictionary()
)


def _root_blocks(template: Any) -> dict[str, BlockNode] | None:
    try:
        return _ROOT_BLOCKS[template]
    except KeyError:
        pass
    blocks = None
    for node in template.nodelist:  # as Django: the first node that is not text decides
        if not isinstance(node, TextNode):
            if not isinstance(node, ExtendsNode):
                found = template.nodelist.get_nodes_by_type(BlockNode)
                blocks = {block.name: block for block in found}
            break
    _ROOT_BLOCKS[template] = blocks
    return blocks


@register.tag("extends")
def extends(parser: Parser, token: Token) -> ExtendsNode:
    node = loader_tags.do_extends(parser, token)
    node.__class__ = KeptBlocksExtendsNode
    return node


@receiver(setting_changed, dispatch_uid="haat.shared_fragments.settings")
def _settings_changed(**kwargs: object) -> None:
    for node in _NODES:
        node.copies.clear()
