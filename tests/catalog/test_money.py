import pytest

from catalog.money import CURRENCIES, format_money


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (125000, "৳ 1,250"),
        (125050, "৳ 1,250.50"),
        (5, "৳ 0.05"),
        (0, "৳ 0"),
        (123456789, "৳ 1,234,567.89"),
        (-1500, "-৳ 15"),
    ],
)
def test_bdt_formatting(amount, expected):
    assert format_money(amount, CURRENCIES["BDT"]) == expected


def test_zero_decimal_currency():
    assert format_money(1250, CURRENCIES["JPY"]) == "¥ 1,250"


def test_shop_currency_is_configurable(settings):
    settings.SHOP_CURRENCY = "USD"
    assert format_money(199) == "$ 1.99"
    settings.SHOP_CURRENCY = "XYZ"
    assert format_money(199) == "XYZ 1.99"


def test_none_renders_empty():
    assert format_money(None) == ""


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (125000, "৳ ১,২৫০"),
        (125050, "৳ ১,২৫০.৫০"),
        (125000000, "৳ ১২,৫০,০০০"),  # lakh grouping, as Bangladesh writes it
        (0, "৳ ০"),
        (-1500, "-৳ ১৫"),
    ],
)
def test_bangla_uses_bengali_digits_and_lakh_grouping(amount, expected):
    assert format_money(amount, CURRENCIES["BDT"], language="bn") == expected


def test_the_active_language_decides(settings):
    from django.utils import translation

    with translation.override("bn"):
        assert format_money(125000, CURRENCIES["BDT"]) == "৳ ১,২৫০"
    with translation.override("en"):
        assert format_money(125000, CURRENCIES["BDT"]) == "৳ 1,250"


def test_an_unknown_language_falls_back_to_english():
    assert format_money(125000, CURRENCIES["BDT"], language="xx-nonsense") == "৳ 1,250"
