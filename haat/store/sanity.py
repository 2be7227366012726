"""A store in a Sanity dataset: products (with their stock), carts and wishlists as documents.

Every read-modify-write is one Sanity transaction guarded by ``ifRevisionID``: if someone else
changed the document in between, Sanity answers 409, and we read again and retry with a short,
jittered, bounded backoff, then give up with a clear "try again" error. Stock for one checkout is
taken in one transaction across all its products, so it is all or nothing. GROQ parameters are
always passed as ``$params``, never pasted into the query. Reads go to the API host, never the
CDN, so stock is always current.

Haat's database keeps a mirror of each product's stock (``Product.stock``), written after each
successful change and ordered by a per-product sequence number, so pages, the admin and the
ledger read it without a round trip; the conditional checks always run against Sanity.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import httpx
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from haat.errors import InsufficientStock, ProductNotFound, StoreBusy
from haat.store.base import (
    CartChange,
    CartContents,
    ProductState,
    WishlistChange,
    WishlistContents,
    WishlistEntry,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

PRODUCT_FIELDS = (
    '{haatId, name, "slug": slug.current, priceMinor, stock, stockSeq, isPublished, imageUrl}'
)


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
        self.http = httpx.Client(
            base_url=host,
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(10.0, connect=3.0),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        )

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

    # --- catalogue ------------------------------------------------------------------------
    def products(self, ids: Iterable[int]) -> dict[int, ProductState]:
        wanted = sorted({int(pk) for pk in ids})
        if not wanted:
            return {}
        rows = self.client.query(
            f'*[_type == "product" && haatId in $ids]{PRODUCT_FIELDS}', {"ids": wanted}
        )
        return {int(row["haatId"]): _state(row) for row in rows}

    def product_sync(self, product: ProductState) -> None:
        """Publish a product's catalogue fields; its stock is only set when it is new here."""
        doc_id = product_doc_id(product.id)
        fields = {
            "haatId": product.id,
            "name": product.name,
            "slug": {"_type": "slug", "current": product.slug},
            "priceMinor": product.price_minor,
            "isPublished": product.is_published,
            "imageUrl": product.image_url,
        }
        self.client.mutate(
            [
                {
                    "createIfNotExists": {
                        "_id": doc_id,
                        "_type": "product",
                        **fields,
                        "stock": product.stock,
                        "stockSeq": 0,
                    }
                },
                {"patch": {"id": doc_id, "set": fields}},
            ]
        )

    def product_remove(self, product_id: int) -> None:
        self.client.mutate([{"delete": {"id": product_doc_id(product_id)}}])

    def stock_adjust(self, product_id: int, delta: int) -> tuple[str, int]:
        def attempt() -> tuple[str, int]:
            doc = self.client.documents([product_doc_id(product_id)]).get(
                product_doc_id(product_id)
            )
            if doc is None:
                raise ProductNotFound(_("This product does not exist."), product_id=product_id)
            stock = int(doc.get("stock", 0))
            if stock + delta < 0:
                raise InsufficientStock(
                    f"Only {stock} in stock; cannot take {-delta}.",
                    product_id=product_id,
                    requested=-delta,
                    available=stock,
                )
            self.client.mutate(
                [
                    {
                        "patch": {
                            "id": doc["_id"],
                            "ifRevisionID": doc["_rev"],
                            "inc": {"stock": delta, "stockSeq": 1},
                        }
                    }
                ]
            )
            sequence = int(doc.get("stockSeq", 0)) + 1
            _mirror_stock({product_id: (stock + delta, sequence)})
            return str(doc.get("name", "")), stock + delta

        return self._retrying(attempt)

    def stock_take(self, quantities: Mapping[int, int]) -> dict[int, int]:
        ids = sorted(quantities)

        def attempt() -> dict[int, int]:
            docs = self.client.documents(product_doc_id(pk) for pk in ids)
            short = []
            for product_id in ids:
                doc = docs.get(product_doc_id(product_id))
                available = int(doc.get("stock", 0)) if doc else 0
                if available < quantities[product_id]:
                    short.append(
                        {
                            "product_id": product_id,
                            "requested": quantities[product_id],
                            "available": available,
                        }
                    )
            if short:
                raise InsufficientStock(_("Not enough stock for some products."), lines=short)
            # One transaction for all products: every revision must still match, or none moves.
            self.client.mutate(
                [
                    {
                        "patch": {
                            "id": product_doc_id(pk),
                            "ifRevisionID": docs[product_doc_id(pk)]["_rev"],
                            "dec": {"stock": quantities[pk]},
                            "inc": {"stockSeq": 1},
                        }
                    }
                    for pk in ids
                ]
            )
            result = {
                pk: (
                    int(docs[product_doc_id(pk)]["stock"]) - quantities[pk],
                    int(docs[product_doc_id(pk)].get("stockSeq", 0)) + 1,
                )
                for pk in ids
            }
            _mirror_stock(result)
            return {pk: stock for pk, (stock, _) in result.items()}

        return self._retrying(attempt)

    def stock_take_recorded(
        self, quantities: Mapping[int, int], *, reason: str, reference: str, actor_id: int | None
    ) -> dict[int, int] | None:
        return None  # the ledger lives in Haat's database, not in the dataset

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


def _state(row: dict[str, Any]) -> ProductState:
    return ProductState(
        id=int(row["haatId"]),
        slug=row.get("slug") or "",
        name=row.get("name") or "",
        price_minor=int(row.get("priceMinor") or 0),
        stock=int(row.get("stock") or 0),
        is_published=bool(row.get("isPublished")),
        image_url=row.get("imageUrl") or "",
    )


def _cart_contents(doc: dict[str, Any] | None) -> CartContents:
    if doc is None:
        return CartContents()
    lines = {int(line["productId"]): int(line["quantity"]) for line in doc.get("lines", [])}
    return CartContents(int(doc.get("version", 0)), lines)


def _wishlist_contents(doc: dict[str, Any] | None) -> WishlistContents:
    if doc is None:
        return WishlistContents()
    items = tuple(
        WishlistEntry(int(item["productId"]), item.get("name", ""), item.get("slug", ""))
        for item in doc.get("items", [])
    )
    return WishlistContents(int(doc.get("version", 0)), items)


def _mirror_stock(levels: Mapping[int, tuple[int, int]]) -> None:
    """Copy new stock levels into Haat's database, newest change wins (by Sanity sequence)."""
    with connection.cursor() as cursor:
        for product_id, (stock, sequence) in levels.items():
            cursor.execute(
                "UPDATE catalog_product SET stock = %s, store_sequence = %s "
                "WHERE id = %s AND store_sequence < %s",
                [stock, sequence, product_id, sequence],
            )
