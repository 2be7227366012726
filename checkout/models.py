"""Reservations: units held for a pending order until it is paid, released or expires."""

from __future__ import annotations

from django.db import models


class Reservation(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Holding stock"
        RELEASED = "released", "Released"
        CONVERTED = "converted", "Became a sale"

    order = models.OneToOneField(
        "orders.Order", on_delete=models.CASCADE, related_name="reservation"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"Reservation for order {self.order_id} ({self.status})"
