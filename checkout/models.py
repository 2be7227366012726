"""Reservations: units held for a pending order until it is paid, released or expires."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Reservation(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Holding stock"
        RELEASED = "released", "Released"
        CONVERTED = "converted", "Became a sale"

    order = models.OneToOneField(
        "orders.Order", on_delete=models.CASCADE, related_name="reservation"
    )
    # The shopper holding the stock (the order's user): the database allows one active
    # reservation per shopper, so no race of concurrent checkouts can hoard stock.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reservations",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "expires_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status="active"),
                name="reservation_one_active_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"Reservation for order {self.order_id} ({self.status})"
