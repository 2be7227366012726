"""The delivery details asked for on the checkout page. The same rules check the API's
``delivery`` object (checkout.api), so both accept and refuse alike."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.translation import gettext_lazy as _

from haat.validation import TextRule

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

DELIVERY_RULES = {
    "name": TextRule(max_length=150, too_short="Enter the recipient's name."),
    "phone": TextRule(
        max_length=32,
        # Blanks around the number are allowed (pasted numbers); they are dropped when stored.
        pattern=r"^ *\+?[0-9][0-9 \-]{6,18}[0-9] *$",
        mismatch="Enter a mobile number the courier can call, e.g. 01712345678.",
        normalise=str.strip,
    ),
    "address": TextRule(
        max_length=500, min_visible=5, too_short="Enter the full address: house, road, area."
    ),
    "city": TextRule(max_length=80, too_short="Enter the city or area."),
}


def _field(name: str, label: _StrPromise, widget: forms.Widget) -> forms.CharField:
    rule = DELIVERY_RULES[name]
    # strip=False: the rule sees the text as sent, like the API does; clean() normalises it.
    field = forms.CharField(
        label=label,
        max_length=rule.max_length,
        strip=False,
        validators=[rule.django_validator],
        widget=widget,
    )
    # The rule refuses NUL itself, with one message for every control character.
    field.validators = [
        v for v in field.validators if not isinstance(v, ProhibitNullCharactersValidator)
    ]
    return field


class DeliveryForm(forms.Form):
    name = _field("name", _("Recipient's name"), forms.TextInput(attrs={"autocomplete": "name"}))
    phone = _field(
        "phone",
        _("Mobile number"),
        forms.TextInput(
            attrs={"autocomplete": "tel", "inputmode": "tel", "placeholder": "01XXXXXXXXX"}
        ),
    )
    address = _field(
        "address",
        _("Address"),
        forms.Textarea(attrs={"rows": 2, "autocomplete": "street-address"}),
    )
    city = _field(
        "city", _("City / area"), forms.TextInput(attrs={"autocomplete": "address-level2"})
    )

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        for name, rule in DELIVERY_RULES.items():
            if name in cleaned:
                cleaned[name] = rule.normalise(cleaned[name])
        return cleaned
