"""The delivery details' field rules, written once: the checkout page's form
(``checkout.forms``) and the API's ``delivery`` object (``checkout.api``) both check them, so
both accept, refuse and store alike."""

from __future__ import annotations

from haat.validation import TextRule

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
