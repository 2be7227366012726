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
