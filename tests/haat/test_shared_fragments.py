"""The page frame's {% shared %} parts (haat/shared_fragments.py) are drawn once per process and
language: no shopper's data, token or search ever shows on another's page, each language gets
its own, and a shared part cannot read a request's values or hold a page's block."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.template import Context, Engine, TemplateSyntaxError
from django.test import Client

from catalog.models import Category
from haat import shared_fragments

pytestmark = pytest.mark.django_db

ENGINE = Engine(builtins=["haat.shared_fragments"])


def _body(client: Client, url: str = "/") -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _tokens(body: str) -> set[str]:
    return set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', body))


def test_each_shopper_sees_only_their_own_header(make_user, make_product):
    make_product()
    first, second = Client(), Client()
    first.force_login(make_user("first@example.com", full_name="Amina"))
    second.force_login(make_user("second@example.com", full_name="Rafiq"))
    seen = _body(first)
    assert "first@example.com" in seen and "Amina" in seen
    body = _body(second)
    assert "second@example.com" in body and "Rafiq" in body
    assert "first@example.com" not in body and "Amina" not in body
    # Each page has its own CSRF token and nonce (nothing of the first page's).
    assert _tokens(body) and not _tokens(body) & _tokens(seen)
    nonce = re.compile(r'<script nonce="([^"]+)"')
    assert nonce.findall(body) and nonce.findall(body) != nonce.findall(seen)
    signed_out = _body(Client())
    assert "Sign in" in signed_out and "second@example.com" not in signed_out


def test_search_words_and_paths_stay_with_their_request(client, make_product):
    make_product(name="Blue mug")
    assert 'name="q" value="blue"' in _body(client, "/search/?q=blue")
    home = _body(client, "/")
    assert 'name="q" value=""' in home
    assert '<input type="hidden" name="next" value="/">' in home


def test_each_language_has_its_own_frame(client, db):
    english = _body(client)
    client.cookies["haat_language"] = "bn"
    bangla = _body(client)
    assert '<html lang="en">' in english and '<html lang="bn">' in bangla
    assert '<span lang="bn">' in english and '<span lang="en">' in bangla
    del client.cookies["haat_language"]
    assert '<html lang="en">' in _body(client)


def test_a_settings_change_draws_the_frame_again(client, settings, db):
    assert "Corner Shop" not in _body(client)  # drawn once under the settings before
    settings.SHOP_NAME = "Corner Shop"
    body = _body(client)
    assert "<strong>Corner Shop</strong>" in body


def test_a_shared_part_reads_no_request_values():
    template = ENGINE.from_string(
        "[{% shared %}{{ shop_name }}/{{ user }}/{{ query }}{% endshared %}]"
    )
    assert template.render(Context({"shop_name": "Haat", "user": "amina", "query": "mug"})) == (
        "[Haat//]"
    )
    # Copied: the same part for the next request, whatever it holds.
    assert template.render(Context({"shop_name": "Haat", "user": "rafiq"})) == "[Haat//]"


def test_a_shared_part_cannot_hold_a_block():
    with pytest.raises(TemplateSyntaxError, match="cannot hold"):
        ENGINE.from_string("{% shared %}{% block title %}x{% endblock %}{% endshared %}")


@dataclass(frozen=True)
class _Line:
    name: str
    quantity: int


@dataclass
class _Loose:
    name: str


def test_a_part_shared_by_value_has_a_copy_per_value():
    template = ENGINE.from_string(
        "{% shared line %}{{ line.name }}×{{ line.quantity }}{% endshared %}"
    )
    assert template.render(Context({"line": _Line("Kettle", 1)})) == "Kettle×1"
    assert template.render(Context({"line": _Line("Kettle", 2)})) == "Kettle×2"
    assert template.render(Context({"line": _Line("Kettle", 1), "user": "x"})) == "Kettle×1"


def test_a_part_shared_by_value_needs_a_frozen_dataclass():
    """A model instance or a plain object would be keyed by less than it shows."""
    template = ENGINE.from_string("{% shared line %}{{ line.name }}{% endshared %}")
    with pytest.raises(TypeError, match="frozen dataclass"):
        template.render(Context({"line": _Loose("Kettle")}))


def test_a_part_shared_by_value_keeps_a_bounded_number_of_copies(monkeypatch):
    monkeypatch.setattr(shared_fragments, "KEPT_PER_VALUE", 3)
    template = ENGINE.from_string("{% shared line %}{{ line.quantity }}{% endshared %}")
    for quantity in range(10):
        assert template.render(Context({"line": _Line("Mug", quantity)})) == str(quantity)
    (node,) = template.nodelist.get_nodes_by_type(shared_fragments.SharedNode)
    assert isinstance(node, shared_fragments.SharedNode) and len(node.copies) == 3


def test_a_part_shared_by_values_has_a_copy_per_values_and_takes_none():
    """The category bar: one copy per menu and current category (None on pages of no category)."""
    template = ENGINE.from_string(
        "{% shared line other %}{{ line.name }}/{{ other.name|default:'-' }}{% endshared %}"
    )
    kettle, mug = _Line("Kettle", 1), _Line("Mug", 1)
    assert template.render(Context({"line": kettle, "other": mug})) == "Kettle/Mug"
    assert template.render(Context({"line": kettle})) == "Kettle/-"
    assert template.render(Context({"line": kettle, "other": kettle})) == "Kettle/Kettle"
    with pytest.raises(TypeError, match="frozen dataclass"):
        template.render(Context({"line": kettle, "other": _Loose("Pan")}))


def test_the_category_bar_marks_the_current_category_on_each_page(client, make_product):
    kitchen = Category.objects.create(name="Kitchen", slug="kitchen")
    garden = Category.objects.create(name="Garden", slug="garden")
    make_product(category=kitchen)
    current = re.compile(r'<li><a href="([^"]+)" aria-current="page">')
    assert current.findall(_body(client, "/c/kitchen/")) == ["/c/kitchen/"]
    assert current.findall(_body(client, "/c/garden/")) == ["/c/garden/"]
    assert current.findall(_body(client, "/")) == []
    (node,) = [
        node for node in shared_fragments._NODES if node.by == ("menu_categories", "category")
    ]
    copies = len(node.copies)
    assert current.findall(_body(client, "/c/kitchen/")) == ["/c/kitchen/"]
    assert len(node.copies) == copies  # drawn once per menu and current category, then copied
    assert garden.name in _body(client, "/")
