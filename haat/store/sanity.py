"""A store in a Sanity dataset: carts and wishlists as documents, and a copy of the catalogue
(products with their stock) for the Studio and anyone else reading the dataset.

The database is the one authority for stock, the ledger and the catalogue; Sanity is never
asked anything inside a database transaction. Sanity cannot take part in one, so a change
written to both could roll back in one and stay in the other; instead each product change
bumps the product's outbox version in the transaction that makes it (``haat.store.outbox``),
and after commit a background job sends the product's state, labelled with that version, to
Sanity, retrying with backoff until it gets there. A document already at that version or newer
is left alone, so retries after ambiguous failures and late workers are harmless. A periodic
reconciliation compares both sides and repairs the copy. The rules (stock checks, published)
read the database, never the copy.

Every cart/wishlist read-modify-write is one Sanity transaction guarded by ``ifRevisionID``: if
someone else changed the document in between, Sanity answers 409, and we read again and retry
with a short, jittered, bounded backoff, then give up with a clear "try again" error. GROQ
parameters are always passed as ``$params``, never pasted into the query. Reads go to the API
host, never the CDN.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any, TypeVar

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.models import Product
from haat.background import enqueue
from haat.errors import StoreBusy
from haat.store import outbox
from haat.store.base import (
    AlertWanted,
    CartChange,
    CartContents,
    ProductState,
    WishlistChange,
    WishlistContents,
    WishlistEntry,
)
from haat.store.database import DatabaseStore

log = logging.getLogger(__name__)
T = TypeVar("T")


class SanityError(Exception):
    """Sanity answered with an error other than a revision conflict."""


class RevisionConflict(Exception):
    """Sanity refused the transaction: a document changed since we read it (409)."""


def product_doc_id(product_id: int) -> str:
    return f"product-{product_id}"


def cart_doc_id(user_id: int) -> str:
    return f"cart-{user_id}"


def wishlist_doc_id(user_id: int) -> str:
    return f"wishlist-{user_id}"


class SanityClient:
    """The three endpoints Haat uses, over HTTP. One instance is shared by a process."""

    def __init__(
        self, *, project_id: str, dataset: str, api_version: str, token: str, api_host: str = ""
    ) -> None:
        host = api_host or f"https://{project_id}.api.sanity.io"
        self.dataset = dataset
        self.prefix = f"/v{api_version.lstrip('v')}/data"
        self.requests = 0  # for the cost figures in the README and the tests
        self._http_options: dict[str, Any] = {
            "base_url": host,
            "headers": {"Authorization": f"Bearer {token}"},
            "timeout": httpx.Timeout(float(settings.SANITY_TIMEOUT_SECONDS), connect=3.0),
            "limits": httpx.Limits(max_connections=8, max_keepalive_connections=4),
        }
        self._per_thread = threading.local()

    @property
    def http(self) -> httpx.Client:
        """This thread's own connection pool. One pool shared by a worker's threads let one
        thread close a kept-alive connection another had just been given (httpcore 1.0.9's
        sync pool, encode/httpcore#1110): the request failed with "Bad file descriptor"."""
        client = getattr(self._per_thread, "client", None)
        if client is None:
            client = self._per_thread.client = httpx.Client(**self._http_options)
        return client

    def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        self.requests += 1
        try:
            response = self.http.request(method, f"{self.prefix}{path}", **kwargs)
        except httpx.HTTPError as error:
            raise SanityError(f"Sanity could not be reached: {error}") from None
        if response.status_code == 409:
            raise RevisionConflict(response.text)
        if response.status_code >= 400:
            raise SanityError(f"Sanity answered {response.status_code}: {response.text[:300]}")
        return response.json()

    def query(self, groq: str, params: Mapping[str, Any] | None = None) -> Any:
        query_params = {"query": groq}
        for name, value in (params or {}).items():
            query_params[f"${name}"] = json.dumps(value)
        return self._send("GET", f"/query/{self.dataset}", params=query_params)["result"]

    def documents(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        found = self._send("GET", f"/doc/{self.dataset}/{','.join(wanted)}")["documents"]
        return {doc["_id"]: doc for doc in found}

    def mutate(self, mutations: list[dict[str, Any]]) -> dict[str, Any]:
        return self._send(
            "POST",
            f"/mutate/{self.dataset}",
            params={"returnIds": "true", "visibility": "sync"},
            json={"mutations": mutations},
        )


def _key() -> str:
    return secrets.token_hex(6)


def _reference(product_id: int) -> dict[str, Any]:
    return {"_type": "reference", "_ref": product_doc_id(product_id), "_weak": True}


class SanityStore:
    def __init__(self) -> None:
        self.client = SanityClient(
            project_id=settings.SANITY_PROJECT_ID,
            dataset=settings.SANITY_DATASET,
            api_version=settings.SANITY_API_VERSION,
            token=settings.SANITY_TOKEN,
            api_host=settings.SANITY_API_HOST,
        )
        self.attempts = settings.SANITY_MAX_ATTEMPTS
        self.database = DatabaseStore()

    # --- retrying read-modify-write -------------------------------------------------------
    def _retrying(self, attempt: Callable[[], T]) -> T:
        for number in range(1, self.attempts + 1):
            try:
                return attempt()
            except RevisionConflict:
                if number == self.attempts:
                    break
                # Full jitter: spread the retries of everyone who collided.
                time.sleep(random.uniform(0, min(0.25, 0.004 * 2**number)))
        raise StoreBusy()

    # --- catalogue and stock: the database decides, Sanity gets a copy ---------------------
    def products(self, ids: Iterable[int]) -> dict[int, ProductState]:
        # The rules check the authority, never the copy, which may lag by a delivery.
        return self.database.products(ids)

    def products_changed(self, product_ids: Iterable[int]) -> None:
        """Record the change in the outbox, in the caller's transaction; deliver after commit."""
        ids = outbox.mark(product_ids)
        if ids:
            transaction.on_commit(
                partial(enqueue, "catalog.services.store_changes_deliver", product_ids=ids)
            )

    def stock_adjust(self, product_id: int, delta: int) -> tuple[str, int]:
        with transaction.atomic():
            result = self.database.stock_adjust(product_id, delta)
            self.products_changed([product_id])
        return result

    def stock_take(self, quantities: Mapping[int, int]) -> dict[int, int]:
        with transaction.atomic():
            result = self.database.stock_take(quantities)
            self.products_changed(quantities)
        return result

    def stock_take_recorded(
        self, quantities: Mapping[int, int], *, reason: str, reference: str, actor_id: int | None
    ) -> dict[int, int] | None:
        with transaction.atomic():
            result = self.database.stock_take_recorded(
                quantities, reason=reason, reference=reference, actor_id=actor_id
            )
            if result is not None:
                self.products_changed(quantities)
        return result

    def stock_return_recorded(
        self, quantities: Mapping[int, int], *, reason: str, reference: str, actor_id: int | None
    ) -> dict[int, int] | None:
        with transaction.atomic():
            result = self.database.stock_return_recorded(
                quantities, reason=reason, reference=reference, actor_id=actor_id
            )
            if result is not None:
                self.products_changed(result)
        return result

    def deliver_changes(
        self, product_ids: Iterable[int] | None = None, *, ignore_backoff: bool = False
    ) -> int:
        """Send the products' committed state to Sanity (all due ones, or these). Returns how
        many products were brought up to date. Never call inside a transaction: nothing is
        locked while Sanity is asked. Safe with any number of workers (``outbox.claim``)."""
        wanted = None if product_ids is None else sorted({int(pk) for pk in product_ids})
        done = 0
        # A few rounds for changes committed while a round was on its way; the periodic job
        # picks up anything left over.
        for _ in range(3 if wanted is not None else 50):
            token, claimed = outbox.claim(wanted, ignore_backoff=ignore_backoff)
            if not claimed:
                break
            try:
                versions = self._send_states(outbox.claimed_states(token))
            except Exception as error:  # 5xx, timeout, endless conflicts: retry later
                log.warning("Sanity delivery of products %s failed: %s", claimed, error)
                outbox.failed(token, str(error) or type(error).__name__)
                break
            outbox.delivered(token, versions)
            done += len(versions)
        return done

    def _send_states(self, claimed: list[outbox.Claimed]) -> dict[int, int]:
        """One Sanity transaction for the batch. A document already at that version or newer
        is left alone, so a retry after an ambiguous failure (the change went through, the
        answer did not) or a late, slower worker never overwrites a newer state."""

        def attempt() -> dict[int, int]:
            docs = self.client.documents(product_doc_id(item.product_id) for item in claimed)
            mutations: list[dict[str, Any]] = []
            for item in claimed:
                doc_id = product_doc_id(item.product_id)
                doc = docs.get(doc_id)
                if doc is not None and int(doc.get("haatVersion") or 0) >= item.version:
                    continue
                if item.state is None:
                    if doc is not None:
                        mutations.append({"delete": {"id": doc_id}})
                    continue
                fields = {**_fields(item.state), "haatVersion": item.version}
                if doc is None:
                    mutations.append({"create": {"_id": doc_id, "_type": "product", **fields}})
                else:
                    mutations.append(
                        {"patch": {"id": doc_id, "ifRevisionID": doc["_rev"], "set": fields}}
                    )
            if mutations:
                self.client.mutate(mutations)
            return {item.product_id: item.version for item in claimed}

        return self._retrying(attempt)

    def reconcile(self, *, batch: int = 200) -> dict[str, int]:
        """Compare every product with its Sanity copy and repair what differs (edited or
        deleted in the Studio, a document for a product that is gone, a copy behind a database
        restored from backup): such products are marked again, above the version Sanity holds,
        and delivered. Returns the counts. Idempotent; safe to run on several workers."""
        held = {
            int(row["haatId"]): int(row.get("haatVersion") or 0)
            for row in self.client.query(
                '*[_type == "product" && defined(haatId)]{haatId, haatVersion}'
            )
        }
        product_ids = list(Product.objects.order_by("pk").values_list("pk", flat=True))
        pending = set(outbox.pending_ids())
        differing: dict[int, int] = {}
        for start in range(0, len(product_ids), batch):
            page = product_ids[start : start + batch]
            states = self.database.products(page)
            docs = self.client.documents(product_doc_id(pk) for pk in page)
            for pk, state in states.items():
                doc = docs.get(product_doc_id(pk))
                if doc is None or _differs(doc, state):
                    differing[pk] = int((doc or {}).get("haatVersion") or 0)
        known = set(product_ids)
        differing.update({pk: version for pk, version in held.items() if pk not in known})
        for pk, version in sorted(differing.items()):  # one row at a time: never two locks
            outbox.mark([], floors={pk: version})
        delivered = self.deliver_changes(differing, ignore_backoff=True) if differing else 0
        return {
            "checked": len(product_ids),
            "repaired": len(set(differing) - pending),
            "delivered": delivered,
        }

    # --- carts ----------------------------------------------------------------------------
    def cart_get(self, user_id: int) -> CartContents:
        doc = self.client.documents([cart_doc_id(user_id)]).get(cart_doc_id(user_id))
        return _cart_contents(doc)

    def cart_update(
        self, user_id: int, product_ids: Iterable[int], change: CartChange
    ) -> CartContents:
        wanted = set(product_ids)
        doc_id = cart_doc_id(user_id)

        def attempt() -> CartContents:
            doc = self.client.documents([doc_id]).get(doc_id)
            current = _cart_contents(doc)
            before = dict(current.lines)
            products = self.products(wanted | set(before))
            after = change(dict(before), products)
            if after == before:
                return current
            keys = {int(line["productId"]): line for line in (doc or {}).get("lines", [])}
            now = timezone.now().isoformat()
            lines = [
                {
                    "_key": keys[pk]["_key"] if pk in keys else _key(),
                    "_type": "cartLine",
                    "product": _reference(pk),
                    "productId": pk,
                    "quantity": quantity,
                    "addedAt": keys[pk].get("addedAt", now) if pk in keys else now,
                }
                for pk, quantity in after.items()
            ]
            version = current.version + 1
            if doc is None:
                mutation = {
                    "create": {
                        "_id": doc_id,
                        "_type": "cart",
                        "userId": user_id,
                        "version": version,
                        "lines": lines,
                    }
                }
            else:
                mutation = {
                    "patch": {
                        "id": doc_id,
                        "ifRevisionID": doc["_rev"],
                        "set": {"lines": lines, "version": version},
                    }
                }
            self.client.mutate([mutation])
            return CartContents(version, after)

        return self._retrying(attempt)

    # --- wishlists ------------------------------------------------------------------------
    def wishlist_get(self, user_id: int) -> WishlistContents:
        doc = self.client.documents([wishlist_doc_id(user_id)]).get(wishlist_doc_id(user_id))
        return _wishlist_contents(doc)

    def shopper_get(self, user_id: int) -> tuple[CartContents, WishlistContents]:
        cart_id, wishlist_id = cart_doc_id(user_id), wishlist_doc_id(user_id)
        docs = self.client.documents([cart_id, wishlist_id])  # one request for both
        return _cart_contents(docs.get(cart_id)), _wishlist_contents(docs.get(wishlist_id))

    def wishlist_update(
        self, user_id: int, product_ids: Iterable[int], change: WishlistChange
    ) -> WishlistContents:
        wanted = set(product_ids)
        doc_id = wishlist_doc_id(user_id)

        def attempt() -> WishlistContents:
            doc = self.client.documents([doc_id]).get(doc_id)
            current = _wishlist_contents(doc)
            before = list(current.items)
            after = change(list(before), self.products(wanted))
            if after == before:
                return current
            keys = {int(item["productId"]): item for item in (doc or {}).get("items", [])}
            now = timezone.now().isoformat()
            items = [
                {
                    "_key": keys[entry.product_id]["_key"] if entry.product_id in keys else _key(),
                    "_type": "wishlistItem",
                    "product": _reference(entry.product_id),
                    "productId": entry.product_id,
                    "name": entry.name,
                    "slug": entry.slug,
                    "addedAt": keys[entry.product_id].get("addedAt", now)
                    if entry.product_id in keys
                    else now,
                    "addedPriceMinor": entry.added_price_minor,
                    "alertWanted": entry.alert_wanted,
                    "alertSent": entry.alert_sent,
                }
                for entry in after
            ]
            version = current.version + 1
            if doc is None:
                mutation = {
                    "create": {
                        "_id": doc_id,
                        "_type": "wishlist",
                        "userId": user_id,
                        "version": version,
                        "items": items,
                    }
                }
            else:
                mutation = {
                    "patch": {
                        "id": doc_id,
                        "ifRevisionID": doc["_rev"],
                        "set": {"items": items, "version": version},
                    }
                }
            self.client.mutate([mutation])
            return WishlistContents(version, tuple(after))

        return self._retrying(attempt)

    def wishlist_alerts_wanted(self, product_ids: Iterable[int] | None = None) -> list[AlertWanted]:
        wanted = None if product_ids is None else sorted({int(pk) for pk in product_ids})
        if wanted == []:
            return []
        # Only the items asked about come back, not whole wishlists.
        rows = self.client.query(
            '*[_type == "wishlist" && count(items[alertWanted == true '
            "&& (!defined($ids) || productId in $ids)]) > 0]"
            '{userId, "ids": items[alertWanted == true '
            "&& (!defined($ids) || productId in $ids)].productId}",
            {"ids": wanted},
        )
        return [
            AlertWanted(int(row["userId"]), int(product_id))
            for row in sorted(rows, key=lambda row: int(row["userId"]))
            for product_id in row.get("ids") or []
        ]


def _fields(state: ProductState) -> dict[str, Any]:
    """A product's document fields, as Haat's database has them."""
    return {
        "haatId": state.id,
        "name": state.name,
        "slug": {"_type": "slug", "current": state.slug},
        "priceMinor": state.price_minor,
        "stock": state.stock,
        "isPublished": state.is_published,
        "imageUrl": state.image_url,
    }


def _differs(doc: dict[str, Any], state: ProductState) -> bool:
    return any(doc.get(name) != value for name, value in _fields(state).items())


def _cart_contents(doc: dict[str, Any] | None) -> CartContents:
    if doc is None:
        return CartContents()
    lines = {int(line["productId"]): int(line["quantity"]) for line in doc.get("lines", [])}
    return CartContents(int(doc.get("version", 0)), lines)


def _wishlist_contents(doc: dict[str, Any] | None) -> WishlistContents:
    if doc is None:
        return WishlistContents()
    items = tuple(
        WishlistEntry(
            int(item["productId"]),
            item.get("name", ""),
            item.get("slug", ""),
            None if item.get("addedPriceMinor") is None else int(item["addedPriceMinor"]),
            bool(item.get("alertWanted")),
            bool(item.get("alertSent")),
        )
        for item in doc.get("items", [])
    )
    return WishlistContents(int(doc.get("version", 0)), items)
