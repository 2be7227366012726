"""The catalogue's parts that are the same for every shopper, kept in the "catalog" cache (Redis
with REDIS_URL, else each process's memory; README: Caching): the category menu, a product
page's catalogue data and listing cards' HTML.

Every key carries the version of what it was made from, so an edit shows at once on every
process: a product's ``updated_at`` (bumped by every save, and by its images' changes), and a
counter for the categories bumped after each category change commits (a new key, never a
deleted one, so a slow request cannot put old data back under the current key). What changes
per sale or per shopper is never taken from here: stock, price and publication are read live
with every page and are part of a card's key; carts, wishlists and buttons are not cached.
A cache that fails is skipped: the page is made from the database, as without a cache."""

from __future__ import annotations

import copy
import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache, caches
from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver

from haat import sessions

log = logging.getLogger(__name__)

# Entries live at most this long (seconds); a version change makes them unreachable sooner.
TIMEOUT = 24 * 3600
_CATEGORIES_VERSION = "catalog:categories:version"


def _safely[T](default: T, action: Callable[[], T]) -> T:
    try:
        return action()
    except Exception:  # a cache outage costs speed, never a page
        log.warning("Shared cache unavailable; the catalogue is read from the database")
        return default


sessions.read_with_session(_CATEGORIES_VERSION)  # every page's header reads it


def categories_version(session: object = None) -> int:
    """The categories' version; ``session``: the request's, with which it was read (else it is
    read on its own)."""
    found = sessions.read_along(session, _CATEGORIES_VERSION)
    if found is not None:
        return int(found)

    def read() -> int:
        version = cache.get(_CATEGORIES_VERSION)
        if version is None:
            # Starts from the clock, so a cache emptied by a restart never reuses a number.
            cache.add(_CATEGORIES_VERSION, time.time_ns(), None)
            version = cache.get(_CATEGORIES_VERSION)
        return int(version or 0)

    return _safely(0, read)


def categories_changed() -> None:
    """A category was saved or deleted: after commit, every key made from categories is old."""

    def bump() -> None:
        try:
            cache.incr(_CATEGORIES_VERSION)
        except ValueError:  # no counter yet (or evicted): a new one is a new version anyway
            cache.set(_CATEGORIES_VERSION, time.time_ns(), None)

    transaction.on_commit(lambda: _safely(None, bump))


def _store() -> Any:
    return caches["catalog"]


def cached[T](key: str, load: Callable[[], T]) -> T:
    """``key``'s entry, or ``load()`` stored under it."""
    found = _safely(None, lambda: _store().get(key))
    if found is not None:
        return found
    value = load()
    _safely(None, lambda: _store().set(key, value, TIMEOUT))
    return value


# The latest entries this process read with ``cached_here``: a key names one version of what it
# holds, so a copy kept here is as fresh as the shared cache's, without its round trip and
# unpickling on every page.
_HERE: dict[str, Any] = {}
HERE_KEPT = 512


def cached_here[T](key: str, load: Callable[[], T]) -> T:
    """As ``cached``, through this process's latest entries; a shallow copy each time, so a
    request may set its live fields on it without touching another's."""
    found = _HERE.get(key)
    if found is None:
        found = cached(key, load)
        if len(_HERE) >= HERE_KEPT:
            oldest = next(iter(_HERE), None)
            if oldest is not None:
                _HERE.pop(oldest, None)  # another thread may have taken it: no KeyError
        _HERE[key] = found
    return copy.copy(found)


def cached_many(
    keys: dict[Any, str],
    render: Callable[[Any], str],
    prepare: Callable[[list[Any]], None] | None = None,
) -> dict[Any, str]:
    """For each item of ``keys`` (item -> key): its entry, or ``render(item)`` stored under it;
    one round trip to the cache for the reads and one for the writes, and none for the entries
    this process read or made lately (kept by key, as ``cached_here``). ``prepare(missing)`` runs
    once before the items without an entry are rendered (to load what only rendering needs)."""
    found: dict[str, str] = {}
    asked = []
    for key in keys.values():
        kept = _MANY_HERE.get(key)
        if kept is None:
            asked.append(key)
        else:
            found[key] = kept
    if asked:
        fetched: dict[str, str] = _safely({}, lambda: _store().get_many(asked))
        _keep_many(fetched)
        found.update(fetched)
    missing = [item for item, key in keys.items() if key not in found]
    if missing and prepare is not None:
        prepare(missing)
    made: dict[str, str] = {}
    result = {}
    for item, key in keys.items():
        text = found.get(key)
        if text is None:
            text = made[key] = render(item)
        result[item] = text
    if made:
        _keep_many(made)
        _safely(None, lambda: _store().set_many(made, TIMEOUT))
    return result


_MANY_HERE: dict[str, Any] = {}
MANY_HERE_KEPT = 4096


@receiver(setting_changed, dispatch_uid="catalog.cached.settings")
def _settings_changed(**kwargs: object) -> None:
    """What this process keeps was made under the settings before (tests change them)."""
    _HERE.clear()
    _MANY_HERE.clear()


def _keep_many(entries: dict[str, Any]) -> None:
    for key, value in entries.items():
        if len(_MANY_HERE) >= MANY_HERE_KEPT:
            oldest = next(iter(_MANY_HERE), None)
            if oldest is not None:
                _MANY_HERE.pop(oldest, None)  # another thread may have taken it: no KeyError
        _MANY_HERE[key] = value


def source_version(text: str) -> str:
    """A short fingerprint of a template's source: a deploy that changes the markup makes new
    keys, so no page shows HTML of the previous version."""
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


@dataclass(frozen=True)
class MenuCategory:
    """A category as the menu and its own page show it (the URL worked out once, not on every
    page)."""

    pk: int
    name: str
    slug: str
    url: str
    description: str = ""

    def get_absolute_url(self) -> str:
        return self.url


@dataclass(frozen=True)
class CategoryMenu:
    """The category menu as one value (the header's category bar is drawn once per menu, language
    and current category: haat/shared_fragments.py)."""

    categories: tuple[MenuCategory, ...]

    def __iter__(self) -> Iterator[MenuCategory]:
        return iter(self.categories)

    def __len__(self) -> int:
        return len(self.categories)


def keys_of(values: Iterable[object]) -> str:
    return ":".join(str(v) for v in values)
