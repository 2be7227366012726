"""The delivery details asked for on the checkout page."""

from __future__ import annotations

import re

from django import forms

PHONE = re.compile(r"^\+?[0-9][0-9 \-]{6,18}[0-9]$")


class DeliveryForm(forms.Form):
    name = forms.CharField(
        label="Recipient's name",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    phone = forms.CharField(
        label="Mobile number",
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "tel", "inputmode": "tel", "placeholder": "01XXXXXXXXX"}
        ),
    )
    address = forms.CharField(
        label="Address",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "street-address"}),
    )
    city = forms.CharField(
        label="City / area",
        max_length=80,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if not PHONE.match(phone):
            raise forms.ValidationError(
                "Enter a mobile number the courier can call, e.g. 01712345678."
            )
        return phone

    def clean_address(self) -> str:
        address = " ".join(self.cleaned_data["address"].split())
        if len(address) < 5:
            raise forms.ValidationError("Enter the full address: house, road, area.")
        return address
