"""The page's JavaScript writes amounts exactly as the server does, in English and in Bangla
(it recomputes line totals and subtotals while an answer is on its way)."""

from __future__ import annotations

import pytest

from catalog.money import format_money

pytestmark = pytest.mark.django_db(transaction=True)

AMOUNTS = [0, 5, 125000, 125050, 123456789, 125000000, -1500]


@pytest.mark.parametrize("language", ["en", "bn"])
def test_script_and_server_write_amounts_alike(page, make_product, language):
    product = make_product()
    page.goto(product.get_absolute_url())
    written = page.evaluate(
        "([language, amounts]) => { document.documentElement.lang = language;"
        " return amounts.map((amount) => window.Haat.money(amount)); }",
        [language, AMOUNTS],
    )
    assert written == [format_money(amount, language=language) for amount in AMOUNTS]
