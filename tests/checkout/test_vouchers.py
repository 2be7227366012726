"""Vouchers: percentage or fixed off the items, from a minimum spend, between a start and an
end, within total and per-shopper limits; counted in the checkout's transaction and given
back when the order is cancelled or its reservation expires; refused with clear codes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Product
from checkout.models import Voucher, VoucherRedemption
from checkout.services import order_cancel, reservations_release_expired
from haat.errors import VoucherRefused
from orders.models import Order, OrderEvent
from orders.services import BY_TASK, OrderActor

pytestmark = pytest.mark.django_db


def make_voucher(**fields) -> Voucher:
    fields.setdefault("code", "EID10")
    fields.setdefault("kind", Voucher.Kind.PERCENT)
    fields.setdefault("value", 10)
    fields.setdefault("starts_at", timezone.now() - timedelta(days=1))
    return Voucher.objects.create(**fields)


def uses(voucher: Voucher) -> int:
    return Voucher.objects.get(pk=voucher.pk).uses


def test_percentage_and_fixed_discounts(start, shopper, make_user, make_product, delivery_zones):
    make_voucher(code="EID10")
    make_voucher(code="TAKA200", kind=Voucher.Kind.FIXED, value=20000)
    item = make_product(price_minor=123456)
    order = start(shopper, buy_now=(item.pk, 1), voucher_code=" eid10 ")
    # 10 % of ৳ 1,234.56, rounded down to the paisa; delivery on the rest.
    assert (order.subtotal_minor, order.discount_minor, order.delivery_fee_minor) == (
        123456,
        12345,
        6000,
    )
    assert order.total_minor == 123456 - 12345 + 6000
    assert order.voucher_code == "EID10"
    other = start(make_user(), buy_now=(item.pk, 1), voucher_code="TAKA200")
    assert (other.discount_minor, other.total_minor) == (20000, 123456 - 20000 + 6000)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"starts_at": timezone.now() + timedelta(days=1)}, "voucher_not_yet_valid"),
        ({"ends_at": timezone.now() - timedelta(seconds=1)}, "voucher_expired"),
        ({"max_uses": 0}, "voucher_used_up"),
        ({"min_spend_minor": 200000}, "voucher_below_minimum"),
        ({"is_active": False}, "voucher_unknown"),
    ],
)
def test_refusals_have_clear_codes_and_change_nothing(start, shopper, make_product, fields, code):
    voucher = make_voucher(**fields)
    item = make_product(stock=3, price_minor=100000)
    with pytest.raises(VoucherRefused) as refused:
        start(shopper, buy_now=(item.pk, 1), voucher_code="EID10")
    assert refused.value.code == code
    assert refused.value.message
    assert Order.objects.count() == 0 and uses(voucher) == 0
    assert Product.objects.get(pk=item.pk).stock == 3


def test_unknown_code(start, shopper, make_product):
    item = make_product()
    for typed in ("NOPE", "bad code!", "x" * 41):
        with pytest.raises(VoucherRefused) as refused:
            start(shopper, buy_now=(item.pk, 1), voucher_code=typed)
        assert refused.value.code == "voucher_unknown"


def test_per_shopper_limit_and_give_back_on_cancel(start, shopper, make_user, make_product):
    voucher = make_voucher(max_uses_per_shopper=1, max_uses=5)
    item = make_product(stock=10)
    first = start(shopper, buy_now=(item.pk, 1), voucher_code="EID10")
    assert uses(voucher) == 1
    order_cancel(
        order_id=first.pk,
        reason=OrderEvent.Reason.SHOPPER_CANCELLED,
        by=OrderActor.shopper(shopper.pk),
    )
    assert uses(voucher) == 0
    assert VoucherRedemption.objects.get(order=first).status == "returned"
    # Given back: the shopper may use it again; a paid order keeps its use.
    second = start(shopper, buy_now=(item.pk, 1), voucher_code="EID10")
    assert uses(voucher) == 1
    from payments.services import pay_with_test_card

    pay_with_test_card(session_id=second.payment_session_id, card_number="4242424242424242")
    assert Order.objects.get(pk=second.pk).status == "paid"
    with pytest.raises(VoucherRefused) as refused:
        start(shopper, buy_now=(item.pk, 1), voucher_code="EID10")
    assert refused.value.code == "voucher_limit_per_shopper"
    assert start(make_user(), buy_now=(item.pk, 1), voucher_code="EID10").discount_minor > 0
    assert uses(voucher) == 2


def test_replaced_checkout_gives_its_voucher_back(start, shopper, make_product):
    voucher = make_voucher(max_uses=1)
    item = make_product(stock=10)
    start(shopper, buy_now=(item.pk, 1), voucher_code="EID10")
    # Starting again replaces the first checkout: its use is given back, then taken anew.
    again = start(shopper, buy_now=(item.pk, 2), voucher_code="EID10")
    assert uses(voucher) == 1
    assert VoucherRedemption.objects.get(status="active").order_id == again.pk


def test_expired_reservation_gives_the_voucher_back(start, shopper, make_product):
    voucher = make_voucher(max_uses=1)
    item = make_product(stock=10)
    order = start(shopper, buy_now=(item.pk, 1), voucher_code="EID10")
    order.payment_session_id = ""
    order.save(update_fields=["payment_session_id"])  # payment page never opened: just expire
    later = timezone.now() + timedelta(hours=2)
    assert reservations_release_expired(now=later, by=BY_TASK) == 1
    assert Order.objects.get(pk=order.pk).status == "cancelled"
    assert uses(voucher) == 0


def test_checkout_page_applies_a_voucher_and_explains_a_refusal(
    shopper_client, shopper, make_product
):
    make_voucher(min_spend_minor=50000)
    item = make_product(price_minor=100000)
    page = {"buy_now": item.pk, "quantity": 1}
    body = shopper_client.post("/checkout/", {**page, "voucher": "eid10"}).content.decode()
    assert 'data-amount="discount">−৳ 100<' in body
    assert 'name="expected_total" value="90000"' in body
    body = shopper_client.post("/checkout/", {**page, "voucher": "NOPE"}).content.decode()
    assert "That voucher code is not one of ours" in body
    assert 'name="expected_total" value="100000"' in body


def _expired_then_paid_late(order: Order) -> None:
    """The reservation ran out (the expiry gave the voucher use back), then the payment made
    just before arrives: the session was paid, its event late."""
    from payments.gateways.test import session_object, signed_event
    from payments.models import TestPaymentSession
    from payments.services import expire_test_session, webhook_receive

    expire_test_session(session_id=order.payment_session_id)
    assert Order.objects.get(pk=order.pk).status == "cancelled"
    session = TestPaymentSession.objects.get(order=order)
    session.status, session.payment_status, session.payment_reference = (
        "complete",
        "paid",
        "pi_test_late",
    )
    session.save()
    payload, header = signed_event("checkout.session.completed", session_object(session))
    webhook_receive(gateway_name="test", payload=payload, signature=header)


def test_a_late_payment_counts_its_voucher_use_again(start, shopper, make_product):
    """Before, the order was sold at the discount with its use no longer counted."""
    voucher = make_voucher(max_uses=2)
    item = make_product(stock=10, price_minor=100000)
    order = start(shopper, buy_now=(item.pk, 1), voucher_code="EID10")
    _expired_then_paid_late(order)

    order.refresh_from_db()
    assert order.status == "paid" and order.discount_minor == 10000
    assert uses(voucher) == 1
    redemption = VoucherRedemption.objects.get(order=order)
    assert (redemption.status, redemption.returned_at) == ("active", None)
    assert Product.objects.get(pk=item.pk).stock == 9


def test_a_late_payment_whose_voucher_was_used_up_meanwhile_is_refunded(
    start, shopper, make_user, make_product
):
    """The voucher's last use went to another order while this one had expired: no discount
    beyond the voucher's limit. Refunded in full, like a late payment whose stock went (before:
    sold at the discount, two orders on a one-use voucher)."""
    voucher = make_voucher(max_uses=1)
    item = make_product(stock=10, price_minor=100000)
    order = start(shopper, buy_now=(item.pk, 1), voucher_code="EID10")
    from payments.services import expire_test_session

    expire_test_session(session_id=order.payment_session_id)
    other = start(make_user(), buy_now=(item.pk, 1), voucher_code="EID10")
    assert uses(voucher) == 1
    _expired_then_paid_late(order)

    order.refresh_from_db()
    assert order.status == "refunded" and order.refund_reference
    assert uses(voucher) == 1
    assert VoucherRedemption.objects.get(order=order).status == "returned"
    assert VoucherRedemption.objects.get(order=other).status == "active"
    assert Product.objects.get(pk=item.pk).stock == 9  # only the other order's unit is held
    reasons = list(order.events.order_by("id").values_list("reason", flat=True))
    assert reasons[-2:] == [
        OrderEvent.Reason.PAID_TOO_LATE_VOUCHER,
        OrderEvent.Reason.REFUNDED_VOUCHER,
    ]
    assert order.status_reason == OrderEvent.Reason.REFUNDED_VOUCHER.label
