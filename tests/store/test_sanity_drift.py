"""The Sanity copy never drifts from the database: stock, ledger and catalogue agree after a
rolled-back transaction, a Sanity answering 5xx (before or after applying the change), a Sanity
timing out, an admin bulk action, and changes made behind Haat's back; and no Sanity request is
made while database rows are locked. Always runs against the stand-in (tests/sanity_standin/),
whose fault hooks inject the failures."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from cart.services import cart_add_line
from catalog.models import Product, StockMovement, StoreOutbox
from catalog.services import stock_adjust, stock_take, store_changes_deliver, store_reconcile
from checkout.services import checkout_start
from haat.background import wait_until_idle
from haat.errors import ProductUnavailable
from haat.store import get_store
from haat.store.sanity import SanityClient, SanityStore, product_doc_id
from payments.services import pay_with_test_card
from tests.conftest import use_sanity

pytestmark = pytest.mark.django_db(transaction=True)


class Failure(Exception):
    """What made the database transaction roll back in these tests."""


@pytest.fixture
def sanity(settings, sanity_standin) -> SanityStore:
    use_sanity(settings, sanity_standin)
    settings.SANITY_TIMEOUT_SECONDS = 0.5
    store = get_store()
    assert isinstance(store, SanityStore)
    return store


@pytest.fixture
def faults(settings, sanity_standin):
    """Inject faults into this test's dataset of the stand-in."""

    def inject(**fault) -> None:
        sanity_standin.fault(settings.SANITY_DATASET, **fault)

    yield inject
    sanity_standin.clear_faults(settings.SANITY_DATASET)


def run_store_jobs() -> None:
    """What the background worker does: deliver every change due, then compare and repair."""
    store_changes_deliver(retry_now=True)
    store_reconcile()


def drift(store: SanityStore, *products: Product) -> dict[int, dict[str, object]]:
    """Every product where Sanity, the database and the ledger disagree (empty: no drift)."""
    docs = store.client.documents(product_doc_id(p.pk) for p in products)
    found = {}
    for product in products:
        row = Product.objects.get(pk=product.pk)
        ledger = StockMovement.objects.filter(product_id=product.pk).aggregate(s=Sum("delta"))["s"]
        doc = docs.get(product_doc_id(product.pk)) or {}
        seen = {
            "sanity_stock": doc.get("stock"),
            "database_stock": row.stock,
            "ledger_sum": ledger or 0,
            "sanity_published": doc.get("isPublished"),
            "database_published": row.is_published,
        }
        if not (
            seen["sanity_stock"] == seen["database_stock"] == seen["ledger_sum"]
            and seen["sanity_published"] == seen["database_published"]
        ):
            found[product.pk] = seen
    return found


@pytest.fixture
def delivered_product(sanity, make_product):
    """A product with 10 in stock that Sanity already knows about."""

    def make(**fields) -> Product:
        product = make_product(stock=10, **fields)
        run_store_jobs()
        assert drift(sanity, product) == {}
        return product

    return make


# --- database rollback after the change ------------------------------------------------------


def test_a_rolled_back_stock_change_never_reaches_sanity(sanity, delivered_product):
    product = delivered_product()
    with pytest.raises(Failure), transaction.atomic():
        stock_adjust(product_id=product.pk, delta=-3, reason=StockMovement.Reason.DAMAGED)
        raise Failure("the rest of the admin save failed")
    run_store_jobs()
    assert drift(sanity, product) == {}
    assert Product.objects.get(pk=product.pk).stock == 10


def test_a_rolled_back_reservation_never_reaches_sanity(sanity, delivered_product):
    kettle, mug = delivered_product(), delivered_product()
    with pytest.raises(Failure), transaction.atomic():
        stock_take(quantities={kettle.pk: 2, mug.pk: 4}, reason="reservation", reference="H-1")
        raise Failure("the order could not be written")
    run_store_jobs()
    assert drift(sanity, kettle, mug) == {}


# --- Sanity answering 5xx -------------------------------------------------------------------


@pytest.mark.parametrize("phase", ["before", "after"])  # after: applied, then the 503
def test_sanity_answering_5xx_never_loses_or_doubles_a_change(
    sanity, faults, delivered_product, phase
):
    product = delivered_product()
    faults(endpoint="mutate", status=503, phase=phase, times=3)
    # The sale is the database's business: it goes through while Sanity fails.
    stock_adjust(product_id=product.pk, delta=-3, reason=StockMovement.Reason.DAMAGED)
    store_changes_deliver(retry_now=True)  # the retries of the background job meet the 503s
    store_changes_deliver(retry_now=True)
    run_store_jobs()  # Sanity is back
    assert drift(sanity, product) == {}
    assert Product.objects.get(pk=product.pk).stock == 7


# --- Sanity timing out ----------------------------------------------------------------------


@pytest.mark.parametrize("phase", ["before", "after"])
def test_sanity_timing_out_never_loses_or_doubles_a_change(
    sanity, faults, delivered_product, phase
):
    product = delivered_product()
    # The client gives up before the answer: "before", nothing was applied; "after", the
    # change went through and only the answer was lost.
    faults(endpoint="mutate", delayMs=1500, phase=phase, times=1)
    stock_adjust(product_id=product.pk, delta=-3, reason=StockMovement.Reason.DAMAGED)
    time.sleep(1.6)  # the late mutation has landed by now
    run_store_jobs()
    assert drift(sanity, product) == {}
    assert Product.objects.get(pk=product.pk).stock == 7


# --- admin bulk actions ---------------------------------------------------------------------


@pytest.fixture
def staff_client(client, make_user):
    client.force_login(make_user("boss@example.com", is_staff=True, is_superuser=True))
    return client


def _bulk(staff_client, action: str, *products: Product):
    response = staff_client.post(
        "/admin/catalog/product/",
        {"action": action, "_selected_action": [str(p.pk) for p in products]},
    )
    assert response.status_code == 302, response.content.decode()[:1000]


def test_admin_bulk_unpublish_reaches_sanity_and_carts(
    sanity, staff_client, delivered_product, shopper
):
    lamp, rug = delivered_product(), delivered_product()
    _bulk(staff_client, "unpublish", lamp, rug)
    run_store_jobs()
    assert drift(sanity, lamp, rug) == {}
    docs = sanity.client.documents([product_doc_id(lamp.pk), product_doc_id(rug.pk)])
    assert [doc["isPublished"] for doc in docs.values()] == [False, False]
    with pytest.raises(ProductUnavailable):
        cart_add_line(user_id=shopper.pk, product_id=lamp.pk, quantity=1)
    _bulk(staff_client, "publish", lamp)
    run_store_jobs()
    assert drift(sanity, lamp, rug) == {}
    assert cart_add_line(user_id=shopper.pk, product_id=lamp.pk, quantity=1).lines == {lamp.pk: 1}


def test_admin_bulk_unpublish_while_sanity_fails_is_delivered_later(
    sanity, faults, staff_client, delivered_product, shopper
):
    lamp = delivered_product()
    faults(endpoint="*", status=502, times=2)
    _bulk(staff_client, "unpublish", lamp)  # its delivery after commit meets the first 502
    owed = StoreOutbox.objects.get(product_id=lamp.pk)
    assert owed.version > owed.delivered_version and "502" in owed.last_error
    assert "502" in staff_client.get("/admin/catalog/storeoutbox/").content.decode()
    run_store_jobs()  # the retry meets the second 502; the reconciliation gets through
    assert drift(sanity, lamp) == {}
    with pytest.raises(ProductUnavailable):
        cart_add_line(user_id=shopper.pk, product_id=lamp.pk, quantity=1)


# --- changes made behind Haat's back --------------------------------------------------------


def test_reconcile_repairs_what_was_changed_in_sanity_directly(sanity, delivered_product):
    kept, edited, deleted = delivered_product(), delivered_product(), delivered_product()
    sanity.client.mutate(
        [
            {
                "patch": {
                    "id": product_doc_id(edited.pk),
                    "set": {"stock": 99, "isPublished": False},
                }
            },
            {"delete": {"id": product_doc_id(deleted.pk)}},
            {"create": {"_id": "product-424242", "_type": "product", "haatId": 424242, "stock": 5}},
        ]
    )
    report = store_reconcile()
    assert report["repaired"] == 3
    assert drift(sanity, kept, edited, deleted) == {}
    assert sanity.client.documents(["product-424242"]) == {}
    assert store_reconcile()["repaired"] == 0  # nothing left to repair: idempotent


# --- several workers ------------------------------------------------------------------------


@pytest.mark.postgres  # SQLite's test database serialises the threads' connections
def test_concurrent_deliveries_end_with_the_newest_state(sanity, delivered_product):
    product = delivered_product()
    stop = threading.Event()
    errors: list[BaseException] = []

    def deliver_forever() -> None:
        try:
            while not stop.is_set():
                store_changes_deliver(retry_now=True)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=deliver_forever) for _ in range(3)]
    for worker in workers:
        worker.start()
    try:
        for _ in range(8):
            stock_adjust(product_id=product.pk, delta=-1, reason=StockMovement.Reason.DAMAGED)
    finally:
        stop.set()
        for worker in workers:
            worker.join(30)
    assert errors == []
    store_changes_deliver(retry_now=True)
    assert drift(sanity, product) == {}
    assert Product.objects.get(pk=product.pk).stock == 2


# --- no Sanity request while rows are locked ------------------------------------------------


@pytest.mark.postgres  # background threads and the test write at once: SQLite's test database
def test_paying_makes_no_sanity_request_inside_a_database_transaction(
    sanity, settings, shopper, delivered_product, monkeypatch
):
    settings.BACKGROUND_TASKS = "thread"  # after commit, as in production
    product = delivered_product()
    cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=2)
    inside: list[str] = []
    send = SanityClient._send

    def recording_send(self, method, path, **kwargs):
        if connection.in_atomic_block:
            inside.append(f"{method} {path.split('?')[0]}")
        return send(self, method, path, **kwargs)

    monkeypatch.setattr(SanityClient, "_send", recording_send)
    order = checkout_start(
        user_id=shopper.pk,
        product_ids=[product.pk],
        success_url="http://testserver/ok",
        cancel_url="http://testserver/cancel",
    )
    paid, _ = pay_with_test_card(
        session_id=order.payment_session_id, card_number="4242424242424242"
    )
    assert paid
    assert wait_until_idle()
    assert inside == []
    run_store_jobs()
    assert drift(sanity, product) == {}
    assert get_store().cart_get(shopper.pk).lines == {}
