"""Order e-mails: queued in the transaction that changed the order, sent by the worker.

A mail is a row (``OrderMail``, one per order and kind) written inside the caller's
transaction, so it exists exactly when the change it tells about was committed; the worker is
handed it only after that commit. Sending claims the row with one conditional UPDATE first, so
of two workers given the same mail only one sends it. The one case that can still repeat a mail
is a sender dying after the mail server accepted it and before it was marked sent: after the
claim's lease (``ORDER_MAIL_CLAIM_LEASE_SECONDS``) someone else sends it again (a second copy
beats a lost confirmation)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import DatabaseError
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from haat.background import publish_on_commit
from orders.models import Order, OrderMail

log = logging.getLogger(__name__)


def mail_claim_lease() -> timedelta:
    """How long a sender's claim on a mail holds; an older claim is from a sender that died."""
    return timedelta(seconds=settings.ORDER_MAIL_CLAIM_LEASE_SECONDS)


SUBJECTS = {
    OrderMail.Kind.CONFIRMATION: "Order {number} is confirmed",
    OrderMail.Kind.REFUND: "Your payment for order {number} was refunded",
}
TEMPLATES = {
    OrderMail.Kind.CONFIRMATION: "orders/email/order_confirmation",
    OrderMail.Kind.REFUND: "orders/email/order_refund",
}


def order_mail_queue(*, order: Order, kind: str) -> None:
    """Record that ``order`` owes its shopper the mail ``kind``; call it inside the transaction
    that changed the order. The worker gets it once that transaction commits; a mail that was
    already queued is not queued again."""
    mail, created = OrderMail.objects.get_or_create(order=order, kind=kind)
    if created:
        from orders.tasks import send_order_mail

        # If the broker is away the row stays due and the mail sweep sends it.
        publish_on_commit(send_order_mail, mail.pk)


def _recipient(order: Order) -> str:
    email = order.user.email if order.user else ""
    # Clerk users seen before their webhook have a placeholder address that takes no mail.
    if not email or email.endswith("@clerk.invalid"):
        return ""
    return email


def _message(order: Order, kind: str, recipient: str) -> EmailMultiAlternatives:
    context = {
        "order": order,
        "lines": list(order.lines.all()),
        "order_url": f"{settings.SITE_URL}{order.get_absolute_url()}",
        "shop_name": settings.SHOP_NAME,
    }
    template = TEMPLATES[OrderMail.Kind(kind)]
    message = EmailMultiAlternatives(
        subject=f"{settings.SHOP_NAME}: "
        + SUBJECTS[OrderMail.Kind(kind)].format(number=order.number),
        body=render_to_string(f"{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient],
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message


def order_mail_send(*, mail_id: int, now: datetime | None = None) -> str:
    """Send one queued mail unless it was sent, or is being sent, already. Returns what
    happened. A failure to send is re-raised (the task retries it) with the claim let go."""
    now = now or timezone.now()
    claimed = (
        OrderMail.objects.filter(pk=mail_id, status=OrderMail.Status.PENDING)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - mail_claim_lease()))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return "not due"
    mail = OrderMail.objects.select_related("order__user").get(pk=mail_id)
    recipient = _recipient(mail.order)
    if not recipient:
        OrderMail.objects.filter(pk=mail_id).update(status=OrderMail.Status.SKIPPED)
        return "skipped"
    try:
        _message(mail.order, mail.kind, recipient).send()
    except Exception as error:
        gave_up = mail.attempts >= settings.ORDER_MAIL_MAX_ATTEMPTS
        OrderMail.objects.filter(pk=mail_id, claimed_at=now).update(
            claimed_at=None,
            last_error=f"{type(error).__name__}: {error}"[:255],
            status=OrderMail.Status.FAILED if gave_up else OrderMail.Status.PENDING,
        )
        if gave_up:
            log.error("Gave up sending %s after %s attempts: %s", mail, mail.attempts, error)
        raise
    OrderMail.objects.filter(pk=mail_id).update(
        status=OrderMail.Status.SENT, recipient=recipient, sent_at=timezone.now(), last_error=""
    )
    return "sent"


def _due_mail_ids(*, now: datetime | None, limit: int) -> list[int]:
    """Mails still owed: queued while no worker took them, or whose sender failed or died."""
    now = now or timezone.now()
    return list(
        OrderMail.objects.filter(status=OrderMail.Status.PENDING)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - mail_claim_lease()))
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )


def order_mails_send_due(*, now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Send every mail still owed (the periodic catch-up). One failing mail does not hold up
    the others; it stays due for the next run until ``ORDER_MAIL_MAX_ATTEMPTS``."""
    outcomes: dict[str, int] = {}
    for mail_id in _due_mail_ids(now=now, limit=limit):
        try:
            outcome = order_mail_send(mail_id=mail_id)
        except DatabaseError:
            raise  # the database is away: the task retries the whole run
        except Exception:
            log.exception("Order mail %s could not be sent; it stays due", mail_id)
            outcome = "failed"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes
