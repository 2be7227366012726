"""Clerk user webhooks, signed the Svix way (computed locally)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from svix.webhooks import Webhook

from accounts.models import User
from cart.models import Cart
from cart.services import cart_add_line
from checkout.services import checkout_start
from orders.models import Order
from tests.checkout.conftest import URLS
from wishlist.models import Wishlist
from wishlist.services import wishlist_toggle

pytestmark = pytest.mark.django_db


def deliver(
    client,
    settings,
    event: dict,
    *,
    secret: str | None = None,
    msg_id: str = "msg_1",
    tamper: bool = False,
):
    body = json.dumps(event)
    now = datetime.now(tz=UTC)
    signature = Webhook(secret or settings.CLERK_WEBHOOK_SECRET).sign(msg_id, now, body)
    if tamper:
        body = body.replace("Rina", "Mallory")
    return client.post(
        "/webhooks/clerk",
        body,
        content_type="application/json",
        headers={
            "svix-id": msg_id,
            "svix-timestamp": str(int(now.timestamp())),
            "svix-signature": signature,
        },
    )


def user_event(kind: str, **data) -> dict:
    base = {
        "id": "user_hook1",
        "first_name": "Rina",
        "last_name": "Akter",
        "primary_email_address_id": "idn_1",
        "email_addresses": [{"id": "idn_1", "email_address": "Rina@Example.com"}],
    }
    base.update(data)
    return {"type": kind, "object": "event", "data": base}


def test_user_created_and_updated(clerk, client):
    assert deliver(client, clerk, user_event("user.created")).status_code == 200
    user = User.objects.get(clerk_user_id="user_hook1")
    assert (user.email, user.full_name) == ("rina@example.com", "Rina Akter")
    deliver(client, clerk, user_event("user.updated", last_name="Begum"), msg_id="msg_2")
    user.refresh_from_db()
    assert user.full_name == "Rina Begum"
    assert User.objects.filter(clerk_user_id="user_hook1").count() == 1


def test_user_deleted_removes_cart_and_wishlist_and_anonymises_orders(clerk, client, make_product):
    deliver(client, clerk, user_event("user.created"))
    user = User.objects.get(clerk_user_id="user_hook1")
    product = make_product(stock=5)
    cart_add_line(user_id=user.pk, product_id=product.pk, quantity=1)
    wishlist_toggle(user_id=user.pk, product_id=product.pk)
    order = checkout_start(user_id=user.pk, buy_now=(product.pk, 1), **URLS)
    response = deliver(
        client,
        clerk,
        {"type": "user.deleted", "data": {"id": "user_hook1", "deleted": True}},
        msg_id="msg_3",
    )
    assert response.json()["outcome"] == "user deleted"
    assert not User.objects.filter(clerk_user_id="user_hook1").exists()
    assert not Cart.objects.exists() and not Wishlist.objects.exists()
    order = Order.objects.get(pk=order.pk)
    assert order.user is None
    assert order.lines.count() == 1


@pytest.mark.parametrize("case", ["forged", "tampered", "unsigned"])
def test_bad_signatures_are_rejected(clerk, client, case):
    if case == "forged":
        response = deliver(
            client,
            clerk,
            user_event("user.created"),
            secret="whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY",
        )
    elif case == "tampered":
        response = deliver(client, clerk, user_event("user.created"), tamper=True)
    else:
        response = client.post(
            "/webhooks/clerk",
            json.dumps(user_event("user.created")),
            content_type="application/json",
        )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert not User.objects.exists()


def test_webhook_off_without_secret(client, db, settings):
    settings.CLERK_WEBHOOK_SECRET = ""
    assert client.post("/webhooks/clerk", "{}", content_type="application/json").status_code == 404
