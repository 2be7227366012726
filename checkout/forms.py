"""The delivery details asked for on the checkout page, checked by the rules in
``checkout.delivery`` (the API's ``delivery`` object uses the same ones)."""

from __future__ import annotations

from django import forms
from django.core.validators import ProhibitNullCharactersValidator

from checkout.delivery import DELIVERY_RULES


def _field(name: str, label: str, widget: forms.Widget) -> forms.CharField:
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
    name = _field("name", "Recipient's name", forms.TextInput(attrs={"autocomplete": "name"}))
    phone = _field(
        "phone",
        "Mobile number",
        forms.TextInput(
            attrs={"autocomplete": "tel", "inputmode": "tel", "placeholder": "01XXXXXXXXX"}
        ),
    )
    address = _field(
        "address",
        "Address",
        forms.Textarea(attrs={"rows": 2, "autocomplete": "street-address"}),
    )
    city = _field("city", "City / area", forms.TextInput(attrs={"autocomplete": "address-level2"}))

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        for name, rule in DELIVERY_RULES.items():
            if name in cleaned:
                cleaned[name] = rule.normalise(cleaned[name])
        return cleaned
