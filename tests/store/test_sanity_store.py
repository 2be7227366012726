"""What is particular to the Sanity store: revision-guarded retries, bounded give-up, GROQ
parameters, request costs, the ordered delivery of the catalogue copy, and the live dataset
test. (Failures and drift: test_sanity_drift.py.)"""

from __future__ import annotations

import os

import pytest

from cart.services import cart_add_line
from catalog.models import Product, StoreOutbox
from catalog.services import store_changes_deliver
from haat.store import get_store, outbox
from haat.store.sanity import SanityStore, StoreBusy, cart_doc_id, product_doc_id
from tests.conftest import use_sanity
from tests.manage_process import manage

pytestmark = pytest.mark.django_db


@pytest.fixture
def sanity(settings, sanity_standin) -> SanityStore:
    use_sanity(settings, sanity_standin)
    store = get_store()
    assert isinstance(store, SanityStore)
    return store


def test_a_conflicting_writer_makes_us_reread_and_retry(sanity, shopper, make_product):
    a, b = make_product(stock=5), make_product(stock=5)
    cart_add_line(user_id=shopper.pk, product_id=a.pk, quantity=1)
    calls = []

    def change(lines, products):
        calls.append(dict(lines))
        if len(calls) == 1:
            # Another tab changes the cart between our read and our write.
            doc = sanity.client.documents([cart_doc_id(shopper.pk)])[cart_doc_id(shopper.pk)]
            sanity.client.mutate(
                [
                    {
                        "patch": {
                            "id": doc["_id"],
                            "set": {
                                "version": doc["version"] + 1,
                                f'lines[_key=="{doc["lines"][0]["_key"]}"].quantity': 3,
                            },
                        }
                    }
                ]
            )
        return {**lines, b.pk: 1}

    contents = sanity.cart_update(shopper.pk, [b.pk], change)
    assert len(calls) == 2  # the first write met a 409, the second read saw the other change
    assert calls[1][a.pk] == 3
    assert contents.lines == {a.pk: 3, b.pk: 1}
    assert sanity.cart_get(shopper.pk).lines == {a.pk: 3, b.pk: 1}


def test_endless_conflicts_give_up_with_a_clear_error(
    settings, sanity_standin, shopper, make_product
):
    use_sanity(settings, sanity_standin, attempts=3)
    store = get_store()
    assert isinstance(store, SanityStore)
    product = make_product(stock=5)
    cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=1)

    def always_raced(lines, products):
        doc = store.client.documents([cart_doc_id(shopper.pk)])[cart_doc_id(shopper.pk)]
        store.client.mutate([{"patch": {"id": doc["_id"], "inc": {"version": 1}}}])
        return {**lines, product.pk: 2}

    with pytest.raises(StoreBusy) as refusal:
        store.cart_update(shopper.pk, [product.pk], always_raced)
    assert refusal.value.http_status == 503
    assert refusal.value.code == "store_busy"
    assert store.cart_get(shopper.pk).lines == {product.pk: 1}


def test_groq_parameters_are_never_pasted_into_the_query(sanity, make_product):
    product = make_product(name='Quote "and" brace } test')
    store_changes_deliver(product_ids=[product.pk])
    rows = sanity.client.query(
        '*[_type == "product" && name == $name]{haatId}', {"name": product.name}
    )
    assert rows == [{"haatId": product.pk}]
    assert (
        sanity.client.query('*[_type == "product" && name == $name]', {"name": '" || true || "'})
        == []
    )


def test_request_costs(sanity, shopper, make_product):
    """The figures in the README's cost table."""
    product = make_product(stock=5)
    client = sanity.client
    start = client.requests
    cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=1)
    assert client.requests - start == 2  # read cart, mutate (the products come from the database)
    start = client.requests
    sanity.cart_get(shopper.pk)
    assert client.requests - start == 1
    start = client.requests
    sanity.stock_take({product.pk: 1})
    assert client.requests - start == 0  # stock moves in the database
    store_changes_deliver(product_ids=[product.pk])
    assert client.requests - start == 2  # after commit: read the documents, one transaction


def _doc(sanity, product):
    return sanity.client.documents([product_doc_id(product.pk)])[product_doc_id(product.pk)]


def test_a_late_delivery_never_overwrites_a_newer_one(sanity, make_product):
    product = make_product(stock=5)
    store_changes_deliver(product_ids=[product.pk])
    version = StoreOutbox.objects.get(product_id=product.pk).version
    stale = outbox.Claimed(product.pk, version, sanity.products([product.pk])[product.pk])
    sanity.stock_adjust(product.pk, -2)
    assert store_changes_deliver(product_ids=[product.pk]) == 1
    assert _doc(sanity, product)["stock"] == 3
    # A worker that read the older version (stock 5) long ago arrives now: it changes nothing.
    sanity._send_states([stale])
    assert (_doc(sanity, product)["stock"], _doc(sanity, product)["haatVersion"]) == (
        3,
        version + 1,
    )


def test_catalogue_edits_reach_sanity_and_a_stale_stock_is_never_saved(
    sanity, make_product, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        product = make_product(stock=7, name="Old name")
        product = Product.objects.get(pk=product.pk)
        sanity.stock_adjust(product.pk, -3)  # a sale after the product was read
        product.name = "New name"
        product.save()  # its in-memory stock (7) is stale: it must not be saved, nor sent
    assert (_doc(sanity, product)["name"], _doc(sanity, product)["stock"]) == ("New name", 4)
    assert Product.objects.get(pk=product.pk).stock == 4


def test_settings_refuse_to_start_without_sanity_variables(tmp_path):
    result = manage(
        "check", drop_prefix="SANITY_", STORE_BACKEND="sanity", HAAT_DATA_DIR=str(tmp_path)
    )
    assert result.returncode != 0
    assert "STORE_BACKEND=sanity needs SANITY_PROJECT_ID, SANITY_TOKEN" in result.stderr


def test_export_command(sanity, make_product, capsys):
    from django.core.management import call_command

    make_product(stock=3, name="Exported Lamp")
    call_command("sanity_export_catalog", "--no-progress")
    assert "Exported" in capsys.readouterr().out
    rows = sanity.client.query('*[_type == "product"]{name, stock}')
    assert {"name": "Exported Lamp", "stock": 3} in rows


@pytest.mark.skipif(
    not os.environ.get("SANITY_TOKEN") or not os.environ.get("SANITY_PROJECT_ID"),
    reason="live Sanity test skipped: set SANITY_PROJECT_ID, SANITY_DATASET and SANITY_TOKEN to run it",
)
def test_live_dataset_round_trip(settings, make_product, shopper):
    settings.STORE_BACKEND = "sanity"
    settings.SANITY_API_HOST = ""
    settings.SANITY_PROJECT_ID = os.environ["SANITY_PROJECT_ID"]
    settings.SANITY_DATASET = os.environ.get("SANITY_DATASET", "production")
    settings.SANITY_TOKEN = os.environ["SANITY_TOKEN"]
    store = get_store()
    product = make_product(stock=2)
    cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=1)
    assert store.cart_get(shopper.pk).lines == {product.pk: 1}
    product.delete()
    store.deliver_changes([product.pk], ignore_backoff=True)


def test_each_thread_talks_to_sanity_through_its_own_connection_pool(sanity):
    # One pool shared by a worker's threads failed requests with "Bad file descriptor" under
    # load (tests/cart/test_cart_concurrency.py): httpcore's sync pool can close a kept-alive
    # connection it has just handed to another thread (encode/httpcore#1110).
    import threading

    pools: dict[str, tuple[object, object]] = {}

    def read() -> None:
        before = sanity.client.http
        sanity.client.documents([product_doc_id(1)])  # a request through it
        pools[threading.current_thread().name] = (before, sanity.client.http)

    threads = [threading.Thread(target=read, name=f"reader-{n}") for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (first, first_again), (second, second_again) = pools["reader-0"], pools["reader-1"]
    assert first is first_again and second is second_again  # kept for the thread's next request
    assert first is not second  # never shared between threads
    assert sanity.client.http not in {first, second}  # and this thread has its own
