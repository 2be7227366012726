"""What a listing's URL may ask for: sort order, price range, in stock only.

Listings are shareable links, so a bad value never breaks the page: the form says what is wrong
beside the controls and the listing ignores only that value."""

from __future__ import annotations

from typing import cast

from django import forms
from django.http import QueryDict
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from catalog.money import shop_currency
from catalog.selectors import ListingOptions, ListingSort

# Whole units of the shop's currency (taka); the largest a price filter may name.
PRICE_FILTER_MAX = 100_000_000


class ListingForm(forms.Form):
    sort = forms.ChoiceField(choices=ListingSort.choices, required=False, label=_("Sort by"))
    min_price = forms.IntegerField(
        min_value=0,
        max_value=PRICE_FILTER_MAX,
        required=False,
        label=_("Lowest price"),
        widget=forms.NumberInput(attrs={"placeholder": "Min", "inputmode": "numeric"}),
    )
    max_price = forms.IntegerField(
        min_value=0,
        max_value=PRICE_FILTER_MAX,
        required=False,
        label=_("Highest price"),
        widget=forms.NumberInput(attrs={"placeholder": "Max", "inputmode": "numeric"}),
    )
    in_stock = forms.BooleanField(required=False, label=_("In stock only"))

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        low, high = cleaned.get("min_price"), cleaned.get("max_price")
        if low is not None and high is not None and low > high:
            # Neither bound can be trusted on its own: the range is ignored as a whole.
            self.add_error(None, "The highest price must not be below the lowest.")
            cleaned.pop("min_price")
            cleaned.pop("max_price")
        return cleaned

    def options(self) -> ListingOptions:
        """The valid part of what was asked; call after is_valid()."""
        cleaned = getattr(self, "cleaned_data", {})
        unit = 10 ** shop_currency().exponent

        def minor(name: str) -> int | None:
            value = cleaned.get(name)
            return None if value is None else value * unit

        return ListingOptions(
            sort=cleaned.get("sort") or ListingSort.RELEVANCE,
            min_price_minor=minor("min_price"),
            max_price_minor=minor("max_price"),
            in_stock_only=bool(cleaned.get("in_stock")),
        )

    @property
    def currency_symbol(self) -> str:
        return shop_currency().symbol

    @property
    def is_narrowed(self) -> bool:
        options = self.options()
        return (
            options.min_price_minor is not None
            or options.max_price_minor is not None
            or options.in_stock_only
        )


def listing_form(query: QueryDict) -> ListingForm:
    """The listing's form for ``query``, validated. When the query asks for none of its values
    (nearly always) the form is made only if something uses more of it than ``data`` and
    ``options()`` (the defaults): the controls come from a kept copy, and making the form (its
    fields deep-copied, each cleaned) cost a category page a tenth of its own time."""
    if any(name in query for name in ListingForm.base_fields):
        return _validated(query)
    return cast(ListingForm, _NothingAsked(query))


def _validated(query: QueryDict) -> ListingForm:
    form = ListingForm(query, label_suffix="")
    form.is_valid()  # errors are shown beside the controls; options() keeps only valid values
    return form


class _NothingAsked(SimpleLazyObject):
    """A ListingForm for a query that asks none of its values, made when first used."""

    def __init__(self, query: QueryDict) -> None:
        super().__init__(lambda: _validated(query))
        self.__dict__["data"] = query  # read without making the form

    def options(self) -> ListingOptions:
        return ListingOptions()  # what the form would clean from nothing asked
