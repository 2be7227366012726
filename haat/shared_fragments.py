"""``{% shared %}…{% endshared %}``: a part of a page that is the same for every shopper and
request in one language (the page's frame: head links, logo, search box, icons, the language
buttons, the footer), rendered once per process and language and then copied.

The base template is on every page and was a third of a page's CPU time, most of it in parts
that never change. A shared part cannot show anything of a request: it is rendered with only the
names in ``SHARED_NAMES`` (no user, no CSRF token, no query, no counts), so a per-shopper value
put inside by mistake renders empty rather than leaking to the next shopper, and blocks (which
pages fill) are refused inside it. The copies are dropped when settings change (tests), and a
template reloaded in development is new nodes with no copies."""

from __future__ import annotations

import weakref
from typing import Any

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.base import Node, NodeList, Parser, Token
from django.template.context import Context
from django.template.loader_tags import BlockNode
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()

# What a shared part may read from the page's context: the same for every request.
SHARED_NAMES = ("shop_name", "currency", "currency_code", "quantity_message", "js_strings")

_NODES: weakref.WeakSet[SharedNode] = weakref.WeakSet()


class SharedNode(Node):
    def __init__(self, nodelist: NodeList) -> None:
        self.nodelist = nodelist
        self.copies: dict[str | None, SafeString] = {}
        _NODES.add(self)

    def render(self, context: Context) -> SafeString:
        language = get_language()
        html = self.copies.get(language)
        if html is None:
            values: dict[str, Any] = {name: context.get(name) for name in SHARED_NAMES}
            html = self.copies[language] = mark_safe(self.nodelist.render(context.new(values)))  # noqa: S308
        return html


@register.tag("shared")
def shared(parser: Parser, token: Token) -> SharedNode:
    nodelist = parser.parse(("endshared",))
    parser.delete_first_token()
    if nodelist.get_nodes_by_type(BlockNode):
        raise template.TemplateSyntaxError("{% shared %} cannot hold a {% block %}")
    return SharedNode(nodelist)


@receiver(setting_changed, dispatch_uid="haat.shared_fragments.settings")
def _settings_changed(**kwargs: object) -> None:
    for node in _NODES:
        node.copies.clear()
