"""Order changes: status changes with their event log, and the order e-mails.

An order's status changes only through ``order_status_change``: one conditional UPDATE (from
the status the caller read under the row lock) and, only if it matched, one ``OrderEvent``
saying who or what made the change and why, both in the caller's transaction. So no status
change can happen without its event, and a change that lost a race writes none.

E-mails: a mail is a row (``OrderMail``, one per order and kind) written inside the caller's
transaction, so it exists exactly when the change it tells about was committed; the worker is
handed it only after that commit. Sending claims the row with one conditional UPDATE first, so
of two workers given the same mail only one sends it. The one case that can still repeat a mail
is a sender dying after the mail server accepted it and before it was marked sent: after the
claim's lease (``ORDER_MAIL_CLAIM_LEASE_SECONDS``) someone else sends it again (a second copy
beats a lost confirmation)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import DatabaseError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from haat.background import publish_on_commit
from haat.mail import mail_address
from haat.store.sql import Alongside, insert, update_and_insert
from orders.models import Order, OrderEvent, OrderMail

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OrderActor:
    """Who or what changes an order: a shopper or staff member (with their user id), a payment
    provider's webhook, a background job, or the shop itself (e.g. a checkout ending others'
    expired reservations on its way). ``data`` goes into each event it writes (for a webhook:
    which payment event)."""

    kind: str
    user_id: int | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def shopper(cls, user_id: int | None) -> OrderActor:
        return cls(OrderEvent.Actor.SHOPPER, user_id)

    @classmethod
    def staff(cls, user_id: int) -> OrderActor:
        return cls(OrderEvent.Actor.STAFF, user_id)

    @classmethod
    def webhook(cls, *, gateway: str, event_id: str, event_type: str) -> OrderActor:
        return cls(
            OrderEvent.Actor.WEBHOOK,
            data={"gateway": gateway, "event_id": event_id, "event_type": event_type},
        )

    @property
    def staff_user_id(self) -> int | None:
        """The staff member to name in the stock ledger (shoppers' moves carry the order
        number there instead)."""
        return self.user_id if self.kind == OrderEvent.Actor.STAFF else None


BY_TASK = OrderActor(OrderEvent.Actor.TASK)
BY_SYSTEM = OrderActor(OrderEvent.Actor.SYSTEM)

# Reasons a shopper is not shown on their order page (staff see every event in the admin).
STAFF_ONLY_REASONS = frozenset({OrderEvent.Reason.SESSION_CLOSED, OrderEvent.Reason.BEFORE_HISTORY})


def _in_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("An order change must run inside the caller's transaction.")


def order_event_record(
    order: Order,
    *,
    reason: str,
    by: OrderActor,
    from_status: str,
    data: Mapping[str, Any] | None = None,
) -> OrderEvent:
    """Write one event of ``order``'s history (to its current status), in the caller's
    transaction. For status changes use ``order_status_change``, which writes one only when
    the change happened."""
    _in_transaction()
    event = order_event_new(order, reason=reason, by=by, from_status=from_status, data=data)
    insert(event)  # every checkout writes two: without the ORM's query building
    return event


def order_event_new(
    order: Order,
    *,
    reason: str,
    by: OrderActor,
    from_status: str,
    to_status: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> OrderEvent:
    """One event of ``order``'s history, not yet written (``to_status``: the order's current
    status unless given): for a caller that writes it together with other rows."""
    reason = OrderEvent.Reason(reason)
    return OrderEvent(
        order=order,
        actor_kind=OrderEvent.Actor(by.kind),
        actor_id=by.user_id,
        from_status=from_status,
        to_status=order.status if to_status is None else to_status,
        reason=reason,
        data={**by.data, **(data or {})},
        visible_to_shopper=reason not in STAFF_ONLY_REASONS,
    )


def _default_language_label(reason: OrderEvent.Reason) -> str:
    return _label_in(reason, settings.LANGUAGE_CODE)


@lru_cache(maxsize=256)
def _label_in(reason: OrderEvent.Reason, language: str) -> str:
    """A reason's label in ``language`` (the catalogues do not change while Haat runs)."""
    with translation.override(language):
        return str(reason.label)


def order_status_change(
    order: Order,
    *,
    to_status: str,
    reason: str,
    by: OrderActor,
    data: Mapping[str, Any] | None = None,
    alongside: Alongside | None = None,
    **fields: Any,
) -> bool:
    """Move ``order`` from the status it was read with to ``to_status`` (also setting
    ``fields``, e.g. ``paid_at``), and log it: who (``by``), why (``reason``), and ``data``.

    Call it inside a transaction that holds the order's row lock. The UPDATE is conditional on
    the status still being the one read, so even a caller without the lock can never apply
    (or log) a change twice: it returns False and writes nothing when the status had moved.
    ``alongside``: a change of another row that goes with this one, made whether or not this
    one matched (in its statement, on PostgreSQL)."""
    _in_transaction()
    reason = OrderEvent.Reason(reason)
    from_status = order.status
    if from_status == to_status:
        if alongside is not None:
            alongside.run()
        return False  # nothing changes, so there is nothing to log
    now = timezone.now()
    changes = {
        "status": to_status,
        # In the default language whatever the request's: shown translated (status_message).
        "status_reason": _default_language_label(reason)[:255],
        "updated_at": now,
        **fields,
    }
    event = order_event_new(
        order, reason=reason, by=by, from_status=from_status, to_status=to_status, data=data
    )
    # The change and its event in one statement (on PostgreSQL), the event only if it matched.
    if not update_and_insert(Order, changes, event, alongside, pk=order.pk, status=from_status):
        return False
    for name, value in changes.items():
        setattr(order, name, value)
    return True


def mail_claim_lease() -> timedelta:
    """How long a sender's claim on a mail holds; an older claim is from a sender that died."""
    return timedelta(seconds=settings.ORDER_MAIL_CLAIM_LEASE_SECONDS)


SUBJECTS = {
    OrderMail.Kind.CONFIRMATION: gettext_lazy("Order {number} is confirmed"),
    OrderMail.Kind.REFUND: gettext_lazy("Your payment for order {number} was refunded"),
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
    return mail_address(order.user) if order.user else ""


def order_mail_message_id(mail: OrderMail) -> str:
    """The Message-ID of a queued mail, the same each time it is sent. Sending is at least
    once: a sender killed after the mail server took the mail, before the row said so, is
    followed by another after the claim's lease, and mail programs show two messages with one
    Message-ID as one."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "haat.localhost"
    return f"<order-mail-{mail.pk}.{mail.kind}@{domain}>"


def _message(mail: OrderMail, recipient: str) -> EmailMultiAlternatives:
    """The mail in the shopper's language (the one on their account; the shop's default if
    they never chose one)."""
    order = mail.order
    language = getattr(order.user, "language", "") or settings.LANGUAGE_CODE
    with translation.override(language):
        message = _message_in_active_language(order, mail.kind, recipient)
    message.extra_headers["Message-ID"] = order_mail_message_id(mail)
    return message


def _message_in_active_language(order: Order, kind: str, recipient: str) -> EmailMultiAlternatives:
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
        _message(mail, recipient).send()
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
