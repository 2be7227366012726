"""The delivery details asked for on the checkout page, checked by the rules in
``checkout.delivery`` (the API's ``delivery`` object uses the same ones)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.translation import gettext_lazy as _

from checkout.delivery import DELIVERY_RULES

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise


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
