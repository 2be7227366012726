"""Order e-mails: a confirmation after payment and a refund notice, text and HTML, each at most
once per order, handed to the worker only after the change that caused it committed."""

from __future__ import annotations

import functools
import smtplib
from datetime import timedelta

import pytest
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models.query import QuerySet
from django.utils import timezone
from kombu.exceptions import OperationalError

from cart.services import cart_add_line
from checkout.services import (
    checkout_confirm,
    checkout_start,
    order_cancel,
    order_fulfil,
    payment_sessions_reconcile,
)
from haat import background
from orders.models import Order, OrderEvent, OrderMail
from orders.services import (
    BY_TASK,
    mail_claim_lease,
    order_mail_message_id,
    order_mail_send,
    order_mails_send_due,
)
from orders.tasks import send_due_order_mails, send_order_mail
from payments.services import pay_with_test_card
from tests.checkout.conftest import URLS
from tests.checkout.scenarios import pay_and_crash, run_out

pytestmark = pytest.mark.django_db

DELIVERY = {
    "name": "Rahima Akter",
    "phone": "+8801711000000",
    "address": "House 12, Road 5, Dhanmondi",
    "city": "Dhaka",
}


@pytest.fixture
def placed(shopper, make_product):
    """A placed order for two products, awaiting payment."""
    from checkout.services import checkout_start

    kettle = make_product(stock=5, price_minor=125000, name="Kettle & Cups")
    rug = make_product(stock=5, price_minor=99950, name="Jute Rug")
    cart_add_line(user_id=shopper.pk, product_id=kettle.pk, quantity=2)
    cart_add_line(user_id=shopper.pk, product_id=rug.pk, quantity=1)
    return checkout_start(
        user_id=shopper.pk, product_ids=[kettle.pk, rug.pk], delivery=DELIVERY, **URLS
    )


def pay(order: Order) -> None:
    paid, _ = pay_with_test_card(
        session_id=order.payment_session_id, card_number="4242424242424242"
    )
    assert paid


def test_paying_sends_one_confirmation_with_lines_totals_address_and_link(
    placed, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://shop.example.com"
    with django_capture_on_commit_callbacks(execute=True):
        pay(placed)

    [mail] = mailoutbox
    assert mail.subject == f"Haat: Order {placed.number} is confirmed"
    assert mail.to == ["shopper@example.com"]
    assert isinstance(mail, EmailMultiAlternatives)
    link = f"https://shop.example.com/orders/{placed.pk}/"
    text = mail.body
    for expected in [
        "2 × Kettle & Cups: ৳ 2,500",
        "1 × Jute Rug: ৳ 999.50",
        "Total: ৳ 3,499.50",
        "Rahima Akter",
        "House 12, Road 5, Dhanmondi, Dhaka",
        link,
    ]:
        assert expected in text, expected
    [(html, mimetype)] = mail.alternatives
    assert mimetype == "text/html" and isinstance(html, str)
    for expected in ["Kettle &amp; Cups", "৳ 3,499.50", "House 12, Road 5, Dhanmondi", link]:
        assert expected in html, expected
    assert OrderMail.objects.get(order=placed).status == OrderMail.Status.SENT


def test_repeated_payment_outcomes_send_no_second_confirmation(
    placed, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        pay(placed)
        order_fulfil(order_id=placed.pk, by=BY_TASK)
        checkout_confirm(order=Order.objects.get(pk=placed.pk))
        order_mails_send_due()
        send_due_order_mails.apply()
    assert len(mailoutbox) == 1
    assert OrderMail.objects.filter(order=placed).count() == 1


def test_the_mail_waits_for_the_commit_and_vanishes_with_a_rollback(
    placed, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        pay(placed)
    # After the commit come the mail and the metrics' counts (haat.metrics counts on commit).
    mails = [
        callback
        for callback in queued
        if isinstance(callback, functools.partial) and callback.func is background._publish
    ]
    assert len(mails) == 1 and mailoutbox == []  # nothing before the commit
    mails[0]()
    assert len(mailoutbox) == 1

    other = Order.objects.create(
        user=placed.user, source="cart", currency="BDT", total_minor=1, gateway="test"
    )
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        order_fulfil(order_id=other.pk, by=BY_TASK)
        raise RuntimeError("the fulfilling transaction failed")
    assert not OrderMail.objects.filter(order=other).exists()
    assert len(mailoutbox) == 1


def test_two_senders_of_one_mail_send_it_once(placed, mailoutbox):
    pay(placed)  # on_commit not run: the mail is queued, not sent
    mail = OrderMail.objects.get(order=placed)
    assert [order_mail_send(mail_id=mail.pk), order_mail_send(mail_id=mail.pk)] == [
        "sent",
        "not due",
    ]
    assert len(mailoutbox) == 1


def test_a_failed_send_is_retried_later_and_gives_up_after_the_bound(
    placed, mailoutbox, monkeypatch, settings
):
    settings.ORDER_MAIL_MAX_ATTEMPTS = 3
    pay(placed)
    mail = OrderMail.objects.get(order=placed)

    def refuse(self, *args, **kwargs):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)
    result = send_order_mail.apply(args=[mail.pk])
    assert result.failed() and isinstance(result.result, smtplib.SMTPServerDisconnected)
    mail.refresh_from_db()
    assert (mail.status, mail.attempts, mail.claimed_at) == ("pending", 1, None)
    assert "SMTPServerDisconnected" in mail.last_error

    monkeypatch.undo()
    assert order_mails_send_due() == {"sent": 1}
    assert len(mailoutbox) == 1

    # A mail that keeps failing stops being tried after ORDER_MAIL_MAX_ATTEMPTS.
    OrderMail.objects.filter(pk=mail.pk).update(
        status="pending", attempts=0, sent_at=None, claimed_at=None
    )
    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)
    assert order_mails_send_due() == {"failed": 1}
    assert order_mails_send_due() == {"failed": 1}
    assert order_mails_send_due() == {"failed": 1}
    assert order_mails_send_due() == {}
    assert OrderMail.objects.get(pk=mail.pk).status == OrderMail.Status.FAILED


def test_a_claim_left_by_a_dead_sender_is_taken_over_after_the_lease(placed, mailoutbox):
    pay(placed)
    mail = OrderMail.objects.get(order=placed)
    OrderMail.objects.filter(pk=mail.pk).update(
        claimed_at=timezone.now() - timedelta(minutes=1), attempts=1
    )
    assert order_mails_send_due() == {}  # someone is sending it
    OrderMail.objects.filter(pk=mail.pk).update(
        claimed_at=timezone.now() - mail_claim_lease() - timedelta(seconds=1)
    )
    assert order_mails_send_due() == {"sent": 1}
    assert len(mailoutbox) == 1


def test_a_sender_killed_after_sending_is_followed_by_the_same_message(
    placed, mailoutbox, monkeypatch
):
    """Sending is at least once: a sender killed once the mail server has the mail, before the
    row says so, is followed by another after the lease. The second copy has the first's
    Message-ID, so the shopper's mail program shows one message."""
    pay(placed)
    mail = OrderMail.objects.get(order=placed)

    real_update = QuerySet.update

    class Killed(BaseException):
        """The process ends here: nothing after it runs, not even an except Exception."""

    def killed_while_marking_sent(self, **changes):
        if changes.get("status") == OrderMail.Status.SENT:
            raise Killed
        return real_update(self, **changes)

    monkeypatch.setattr(QuerySet, "update", killed_while_marking_sent)
    with pytest.raises(Killed):
        order_mail_send(mail_id=mail.pk)
    monkeypatch.undo()
    assert len(mailoutbox) == 1
    OrderMail.objects.filter(pk=mail.pk).update(
        claimed_at=timezone.now() - mail_claim_lease() - timedelta(seconds=1)
    )
    assert order_mails_send_due() == {"sent": 1}
    first, second = (message.extra_headers.get("Message-ID") for message in mailoutbox)
    assert first == second == order_mail_message_id(mail)
    assert first.startswith(f"<order-mail-{mail.pk}.confirmation@")


def test_each_mail_has_a_message_id_of_its_own(placed):
    pay(placed)
    mail = OrderMail.objects.get(order=placed)
    refund = OrderMail.objects.create(order=placed, kind=OrderMail.Kind.REFUND)
    assert order_mail_message_id(mail) != order_mail_message_id(refund)
    assert order_mail_message_id(mail) == order_mail_message_id(OrderMail.objects.get(pk=mail.pk))


def test_the_claim_lease_is_a_setting(placed, mailoutbox, settings):
    """A worker killed while sending leaves its claim; with a shorter lease its mail goes out
    sooner (the cluster tests use 30 s)."""
    pay(placed)
    mail = OrderMail.objects.get(order=placed)
    OrderMail.objects.filter(pk=mail.pk).update(
        claimed_at=timezone.now() - timedelta(seconds=31), attempts=1
    )
    assert order_mails_send_due() == {}  # ten minutes by default
    settings.ORDER_MAIL_CLAIM_LEASE_SECONDS = 30
    assert order_mails_send_due() == {"sent": 1}
    assert len(mailoutbox) == 1


def test_no_mail_without_a_real_address(placed, mailoutbox):
    placed.user.email = "user_2abc@clerk.invalid"
    placed.user.save(update_fields=["email"])
    pay(placed)
    assert order_mails_send_due() == {"skipped": 1}
    assert mailoutbox == []


def test_refund_notice_says_why_with_the_reference(
    make_user, make_product, mailoutbox, django_capture_on_commit_callbacks
):
    late, early = make_user(), make_user()
    product = make_product(stock=1, name="Last Lamp")
    order = checkout_start(user_id=late.pk, buy_now=(product.pk, 1), **URLS)
    pay_and_crash(order)
    run_out(order, minutes=30)
    order_cancel(order_id=order.pk, reason=OrderEvent.Reason.RESERVATION_EXPIRED, by=BY_TASK)
    checkout_start(user_id=early.pk, buy_now=(product.pk, 1), **URLS)

    with django_capture_on_commit_callbacks(execute=True):
        payment_sessions_reconcile()

    order.refresh_from_db()
    [mail] = mailoutbox
    assert mail.subject == f"Haat: Your payment for order {order.number} was refunded"
    assert "refunded in full" in mail.body and order.refund_reference in mail.body
    assert "1 × Last Lamp" in mail.body
    assert order.refund_reference in mail.alternatives[0][0]
    assert not OrderMail.objects.filter(order=order, kind="confirmation").exists()


@pytest.mark.django_db(transaction=True)
def test_paying_while_the_broker_is_away_answers_and_leaves_the_mail_to_the_sweep(
    shopper_client, placed, mailoutbox, monkeypatch, caplog
):
    """Redis restarting when a payment commits: the shopper is sent on to the success page
    (before: a 500 from the commit hook, for an order already paid), and the confirmation,
    a row that stays due, goes out with the next run of the mail sweep."""

    def broker_away(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(send_order_mail, "delay", broker_away)
    answer = shopper_client.post(
        f"/payments/test/{placed.payment_session_id}/",
        {"card_number": "4242424242424242", "action": "pay"},
    )
    assert answer.status_code == 302 and "/checkout/success/" in answer["Location"]
    assert Order.objects.get(pk=placed.pk).status == Order.Status.PAID
    assert OrderMail.objects.get(order=placed).status == OrderMail.Status.PENDING
    assert mailoutbox == []
    assert "left to its periodic job" in caplog.text

    monkeypatch.undo()
    assert order_mails_send_due() == {"sent": 1}
    assert len(mailoutbox) == 1
