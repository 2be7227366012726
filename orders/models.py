"""Orders: what was bought, at which server-side prices, and where payment stands.

An order's status only changes through ``orders.services.order_status_change`` (called from
``checkout.services``), each change one transaction holding the order's row lock, so a webhook
and the success page racing each other fulfil it once; the same call writes the change to the
order's event log (``OrderEvent``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting payment")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")
        REFUND_DUE = "refund_due", _("Refund in progress")
        REFUNDED = "refunded", _("Refunded")
        # Cash on delivery: the stock is taken when the order is placed; staff mark it
        # delivered (then PAID), returned, or cancel it.
        AWAITING_DELIVERY = "awaiting_delivery", _("To be paid on delivery")
        RETURNED = "returned", _("Returned")

    class PaymentMethod(models.TextChoices):
        CARD = "card", _("Card (pay now)")
        COD = "cod", _("Cash on delivery")

    class Source(models.TextChoices):
        CART = "cart", _("Cart")
        BUY_NOW = "buy_now", _("Buy Now")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="orders"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    # The message of the latest status change (its ``OrderEvent``), kept for the API and the
    # order page's notice; the whole history is in ``events``.
    status_reason = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    currency = models.CharField(max_length=3)
    # What the shopper pays: the items (``subtotal_minor``), less a voucher's discount, plus
    # the delivery fee; all computed on the server at checkout (``checkout.selectors``).
    subtotal_minor = models.PositiveBigIntegerField(default=0)
    delivery_fee_minor = models.PositiveBigIntegerField(default=0)
    discount_minor = models.PositiveBigIntegerField(default=0)
    voucher_code = models.CharField(max_length=40, blank=True)
    total_minor = models.PositiveBigIntegerField()
    payment_method = models.CharField(
        max_length=10, choices=PaymentMethod.choices, default=PaymentMethod.CARD
    )
    gateway = models.CharField(max_length=20)  # blank for cash on delivery
    payment_session_id = models.CharField(max_length=255, blank=True, db_index=True)
    payment_url = models.CharField(max_length=2000, blank=True)
    payment_reference = models.CharField(max_length=255, blank=True)
    refund_reference = models.CharField(max_length=255, blank=True)
    # Where the parcel goes (asked on the checkout page; optional for API clients).
    delivery_name = models.CharField("recipient", max_length=150, blank=True)
    delivery_phone = models.CharField("phone", max_length=32, blank=True)
    delivery_address = models.CharField("address", max_length=500, blank=True)
    delivery_city = models.CharField("city / area", max_length=80, blank=True)
    # The zone's name as it was (zones can be renamed or removed later).
    delivery_zone = models.CharField("delivery zone", max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    # Set once the gateway confirmed that the payment session can take no more money, so the
    # reconciliation stops asking about this (cancelled) order.
    payment_session_closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "payment_session_id"],
                condition=~Q(payment_session_id=""),
                name="order_unique_payment_session",
            )
        ]

    def __str__(self) -> str:
        return f"Order {self.number}"

    def get_absolute_url(self) -> str:
        return reverse("orders:detail", kwargs={"order_id": self.pk})

    @property
    def unit_count(self) -> int:
        """Items as the cart and checkout count them: units, not lines (2 kettles are 2 items).
        Reads the prefetched lines when there are any."""
        return sum(line.quantity for line in self.lines.all())

    @property
    def payable(self) -> bool:
        """Awaiting payment with its payment page still taking cards: a declined card leaves
        it so until the reservation (which the payment session shares) runs out."""
        if self.status != self.Status.PENDING or not self.payment_url:
            return False
        reservation = getattr(self, "reservation", None)  # none: cash on delivery
        return (
            reservation is not None
            and reservation.status == "active"
            and reservation.expires_at > timezone.now()
        )

    @property
    def status_message(self) -> str:
        """``status_reason`` in the active language (it is kept in the shop's default language,
        whose words are the catalogue's msgids)."""
        return gettext(self.status_reason) if self.status_reason else ""

    @property
    def number(self) -> str:
        return f"HT-{self.pk:06d}"


class DeliveryZone(models.Model):
    """Where a parcel can go and what delivery there costs (managed in the admin). The fee is
    waived when the items (after any voucher) come to ``free_from_minor`` or more."""

    name = models.CharField(max_length=80, unique=True)
    fee_minor = models.PositiveBigIntegerField("fee (paisa)")
    free_from_minor = models.PositiveBigIntegerField(
        "free from (paisa)",
        null=True,
        blank=True,
        help_text="Items total from which delivery is free. Empty: never free.",
    )
    # Cities or areas in this zone, one a line: a shopper's city preselects its zone.
    cities = models.TextField(blank=True, help_text="One city or area a line.")
    is_default = models.BooleanField(
        default=False, help_text="Chosen when nothing else says which zone applies."
    )
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="delivery_zone_one_default",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def fee_for(self, items_minor: int) -> int:
        """The delivery fee for items worth ``items_minor``: the one place the rule lives."""
        if self.free_from_minor is not None and items_minor >= self.free_from_minor:
            return 0
        return self.fee_minor

    def serves(self, city: str) -> bool:
        wanted = " ".join(city.split()).casefold()
        return bool(wanted) and any(
            " ".join(line.split()).casefold() == wanted for line in self.cities.splitlines()
        )


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # What was bought, as it was: kept even if the product changes or disappears.
    product_ref = models.PositiveBigIntegerField()
    product_name = models.CharField(max_length=200)
    product_slug = models.CharField(max_length=220)
    unit_price_minor = models.PositiveBigIntegerField()
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="order_line_quantity_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_name}"

    @property
    def line_total_minor(self) -> int:
        return self.unit_price_minor * self.quantity


class OrderMail(models.Model):
    """One e-mail about an order, at most once per order and kind: the row is written in the
    transaction that changed the order, and a sender claims it (a conditional update) before
    sending, so two workers never both send it."""

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", "Order confirmation"
        REFUND = "refund", "Refund notice"

    class Status(models.TextChoices):
        PENDING = "pending", "To be sent"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Not sent (no address)"
        FAILED = "failed", "Gave up"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="mails")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    recipient = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # A sender's claim; one older than the lease is taken to be from a sender that died.
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "kind"], name="order_mail_once_per_kind")
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for order {self.order_id} ({self.status})"


class OrderEvent(models.Model):
    """One entry of an order's history: who or what changed it, when, from which status to
    which, and why. Written only by ``orders.services``, in the transaction of the change, and
    never edited afterwards."""

    class Actor(models.TextChoices):
        SHOPPER = "shopper", _("Shopper")
        STAFF = "staff", _("Staff")
        WEBHOOK = "webhook", _("Payment provider (webhook)")
        TASK = "task", _("Background job")
        SYSTEM = "system", _("Shop")

    class Reason(models.TextChoices):
        """Every reason an order changes, with its message: the one place these are written
        (the order page, the admin, the API and ``Order.status_reason`` all show these)."""

        PLACED = "placed", _("Order placed; the items are held for you while you pay.")
        CHECKOUT_REPLACED = "checkout_replaced", _("Replaced by a newer checkout.")
        PAYMENT_PAGE_FAILED = "payment_page_failed", _("The payment page could not be opened.")
        SHOPPER_CANCELLED = "shopper_cancelled", _("You cancelled the order.")
        PAYMENT_CANCELLED = "payment_cancelled", _("You cancelled the payment.")
        SESSION_EXPIRED = "session_expired", _("The payment session expired.")
        PAYMENT_FAILED = "payment_failed", _("The payment failed.")
        PAYMENT_DECLINED = "payment_declined", _("The payment was declined.")
        RESERVATION_EXPIRED = "reservation_expired", _("The reservation expired before payment.")
        RESERVATION_EXPIRED_GATEWAY_AWAY = (
            "reservation_expired_gateway_away",
            _(
                "The reservation expired before payment (the payment provider did not answer in "
                "time; a payment that did go through is completed or refunded as soon as it "
                "answers)."
            ),
        )
        STAFF_CANCELLED = "staff_cancelled", _("The shop cancelled this order.")
        COD_PLACED = (
            "cod_placed",
            _("Order placed; you pay in cash when it is delivered."),
        )
        COD_DELIVERED = "cod_delivered", _("Delivered and paid in cash.")
        COD_RETURNED = (
            "cod_returned",
            _("The parcel came back undelivered; nothing is owed."),
        )
        PAID = "paid", _("Payment received.")
        PAID_TOO_LATE = (
            "paid_too_late",
            _("Paid after the reservation ended; the stock was gone."),
        )
        PAID_TOO_LATE_VOUCHER = (
            "paid_too_late_voucher",
            _("Paid after the reservation ended; the voucher had been used up meanwhile."),
        )
        REFUNDED_VOUCHER = (
            "refunded_voucher",
            _(
                "Your payment arrived after the items were no longer held for you, and meanwhile "
                "the voucher's last use went to another order, so we could not honour its "
                "discount: we refunded your payment in full. You are welcome to order again."
            ),
        )
        REFUNDED = (
            "refunded",
            _(
                "Your payment arrived after the items were no longer held for you (an earlier "
                "payment attempt failed, or the time ran out) and they had sold out meanwhile, "
                "so we refunded it in full."
            ),
        )
        BEFORE_HISTORY = (
            "before_history",
            _("Status as it stood when the order history began (its reason is in the details)."),
        )
        SESSION_CLOSED = (
            "session_closed",
            _(
                "The payment provider confirmed the payment session is closed: no payment can "
                "arrive for this order any more."
            ),
        )

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(default=timezone.now)
    actor_kind = models.CharField("by", max_length=10, choices=Actor.choices)
    # The shopper or staff member who acted; kept as null if their account is deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="person",
    )
    # Blank for the order's first event (it had no status before).
    from_status = models.CharField(max_length=20, choices=Order.Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Order.Status.choices)
    # A ``Reason`` code. Not a field with choices: the messages are its labels, and editing
    # one must not need a migration.
    reason = models.CharField(max_length=40)
    # What else is worth keeping: the payment event's id, a payment reference, a staff note.
    data = models.JSONField(default=dict, blank=True)
    visible_to_shopper = models.BooleanField(default=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at", "id"])]

    def __str__(self) -> str:
        moved = f"{self.from_status or '—'} → {self.to_status}"
        return f"Order {self.order_id}: {moved} ({self.reason}, by {self.actor_kind})"

    @property
    def message(self) -> str:
        """The reason's message, in the active language."""
        try:
            return str(OrderEvent.Reason(self.reason).label)
        except ValueError:  # a code from a newer release, read by an older one
            return self.reason
