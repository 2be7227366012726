"""What every page's header needs: shop name, category menu, cart and wishlist counts, and the
signed-in shopper's compact state for the page's local store.

Everything is lazy and computed once: a page that never renders it costs no queries for it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language, gettext, ngettext

from accounts.selectors import shopper_state
from catalog.cached import CategoryMenu, MenuCategory, categories_version
from catalog.money import format_number, shop_currency
from catalog.selectors import category_menu
from haat.store import CartContents, WishlistContents
from haat.validation import quantity_message


def request_shopper_state(
    request: HttpRequest,
    cart: CartContents | None = None,
    wishlist: WishlistContents | None = None,
) -> dict[str, Any] | None:
    """The signed-in shopper's state, read once per request (views and the header share it);
    ``cart`` and ``wishlist``: both as the view just read them, so they are not read twice."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    if not hasattr(request, "_haat_shopper_state"):
        request._haat_shopper_state = shopper_state(user.pk, cart, wishlist)  # type: ignore[attr-defined]
    return request._haat_shopper_state  # type: ignore[attr-defined]


def request_categories_version(request: HttpRequest) -> int:
    """The categories' version (catalog.cached), read once per request (with the session when
    there is one): the menu and a product page's cached data are both keyed by it."""
    if not hasattr(request, "_haat_categories_version"):
        version = categories_version(getattr(request, "session", None))
        request._haat_categories_version = version  # type: ignore[attr-defined]
    return request._haat_categories_version  # type: ignore[attr-defined]


def request_category_menu(request: HttpRequest) -> list[MenuCategory]:
    """The category menu, read once per request (a category page and the header share it)."""
    if not hasattr(request, "_haat_category_menu"):
        menu = category_menu(request_categories_version(request))
        request._haat_category_menu = menu  # type: ignore[attr-defined]
    return request._haat_category_menu  # type: ignore[attr-defined]


@dataclass(frozen=True)
class HeaderAccount:
    """What the header's account menu shows of the signed-in shopper: everything it is drawn
    from, so the menu is a ``{% shared header_account %}`` part (one copy per shopper and language)."""

    short_name: str
    email: str
    is_staff: bool


def request_header_account(request: HttpRequest) -> HeaderAccount | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return HeaderAccount(user.get_short_name(), user.email, user.is_staff)


def js_strings() -> dict[str, str | list[str]]:
    """The words haat.js shows, in the active language ({n} and {name} are filled in there; a
    pair is [one, other] for a count). Handed over as JSON, so no script is inlined. Worked out
    once per language and process (translations do not change while it runs)."""
    language = get_language()
    strings = _JS_STRINGS.get(language)
    if strings is None:
        strings = _JS_STRINGS[language] = _js_strings()
    return strings


_JS_STRINGS: dict[str | None, dict[str, str | list[str]]] = {}


def _js_strings() -> dict[str, str | list[str]]:

    def plural(singular: str, plural: str) -> list[str]:
        return [ngettext(singular, plural, 1), ngettext(singular, plural, 2)]

    return {
        "offline": gettext("You seem to be offline. Please try again."),
        "signed_out": gettext("You were signed out. Please sign in again."),
        "failed": gettext("Something went wrong. Please try again."),
        "items": gettext("items:"),
        "this_product": gettext("this product"),
        "wishlist_save_label": gettext("Save {name} to wishlist"),
        "wishlist_remove_label": gettext("Remove {name} from wishlist"),
        "wishlist_saved": gettext("Saved to your wishlist"),
        "wishlist_removed": gettext("Removed from your wishlist"),
        "have_all": gettext("You already have all {n} in your cart"),
        "have_some": gettext("You already have {n} in your cart"),
        "have_some_more": gettext("You already have {n} in your cart ({more} more available)"),
        "only_addable": gettext("Only {n} can be added. The quantity was set to {n}."),
        "only_available": gettext("Only {n} available. The quantity was set to {n}."),
        "added_n": gettext("Added {n} to your cart"),
        "added_name": gettext("Added {name} to your cart"),
        "delete": gettext("Delete"),
        "remove_one_question": gettext("Remove {name} from your cart?"),
        "delete_n_question": plural(
            "Delete {n} product from your cart?", "Delete {n} products from your cart?"
        ),
        "cart_removed": gettext("Removed from your cart"),
        "deleted_n": plural(
            "Deleted {n} product from your cart", "Deleted {n} products from your cart"
        ),
        "reduced_to": gettext("Quantity reduced to {n}"),
        "in_cart_n": gettext("{n} in your cart"),
        "free": gettext("Free"),
        "moved_to_wishlist": gettext("Moved {name} to your wishlist"),
        "moved_to_cart": gettext("Moved {name} to your cart"),
        "alert_on": gettext("We will e-mail you when it is back in stock."),
        "alert_off": gettext("You will not be told when it is back."),
        # The language's digits 0-9, as the server writes them: small counts need no Intl,
        # whose first use costs the page tens of milliseconds of main thread.
        "digits": "".join(format_number(digit) for digit in range(10)),
    }


def shop(request: HttpRequest) -> dict[str, Any]:
    def state() -> dict[str, Any] | None:
        return request_shopper_state(request)

    currency = shop_currency()
    return {
        "shop_name": settings.SHOP_NAME,
        "currency_code": currency.code,
        "currency": currency,
        "quantity_message": quantity_message,  # the quantity rule's refusal, for the JavaScript
        "header_account": SimpleLazyObject(lambda: request_header_account(request)),
        "menu_categories": SimpleLazyObject(
            lambda: CategoryMenu(tuple(request_category_menu(request)))
        ),
        # Templates call these when (and only when) they use them.
        "shopper_state": lambda: state() or {},
        "cart_count": lambda: (state() or {}).get("cart_count", 0),
        "wishlist_count": lambda: (state() or {}).get("wishlist_count", 0),
        "js_strings": js_strings,
    }
