"""Shared fixtures: shoppers, products with stock (set through the ledger service)."""

from __future__ import annotations

import fcntl
import functools
import itertools
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from accounts.models import User
from catalog.models import Category, Product, StockMovement
from catalog.services import stock_adjust
from tests import fast_flush
from tests.backends import QUALITY_FOLDER, sqlite_path, store_path

PASSWORD = "correct-horse-battery-42"
_sequence = itertools.count(1)
# Only a test that uses the test database gets the marks sqlite or store (the others test
# nothing a backend changes); which files get them: tests/backends.py.
DATABASE_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences"}


def pytest_configure(config: pytest.Config) -> None:
    fast_flush.install()  # transactional tests empty only the tables they wrote to


def _relative(item: pytest.Item) -> str:
    return item.path.relative_to(settings.BASE_DIR).as_posix()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = _relative(item)
        uses_database = item.get_closest_marker("django_db") is not None or bool(
            DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
        )
        if uses_database and sqlite_path(path):
            item.add_marker(pytest.mark.sqlite)
        if uses_database and store_path(path):
            item.add_marker(pytest.mark.store)
        _group_heavy_fixtures(item)
        if item.get_closest_marker("quality") and not path.startswith(QUALITY_FOLDER):
            raise pytest.UsageError(
                f"{item.nodeid} is marked quality outside {QUALITY_FOLDER}: make test collects "
                f"only that folder for them (scripts/run_tests.py), so it would run nowhere"
            )
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: make test runs it against PostgreSQL")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


# pytest-xdist (`--dist loadgroup`) keeps the tests that share an expensive fixture on one
# worker, so it is started once per run rather than once per worker: the gunicorn "hosts", and
# every module-scoped fixture (e.g. the production server of tests/haat/test_production_server).
SHARED_ACROSS_MODULES = {"hosts"}


def _group_heavy_fixtures(item: pytest.Item) -> None:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return
    for name in getattr(item, "fixturenames", ()):
        definitions = info.name2fixturedefs.get(name) or ()
        if name in SHARED_ACROSS_MODULES:
            item.add_marker(pytest.mark.xdist_group(name))
            return
        if definitions and definitions[-1].scope == "module":
            item.add_marker(pytest.mark.xdist_group(item.path.name))
            return


@pytest.fixture(scope="session")
def sanity_standin():
    """The local stand-in for Sanity's HTTP API (Node: groq-js + @sanity/mutator)."""
    from tests.sanity_standin.runner import StandIn

    standin = StandIn()
    yield standin
    standin.stop()


def use_sanity(settings, standin, **overrides) -> None:
    """Point Haat at a fresh, empty dataset of the stand-in."""
    from tests.sanity_standin.runner import TOKEN

    settings.STORE_BACKEND = "sanity"
    settings.SANITY_API_HOST = standin.url
    settings.SANITY_PROJECT_ID = "haattest"
    settings.SANITY_DATASET = f"t{uuid.uuid4().hex[:12]}"
    settings.SANITY_API_VERSION = "2025-02-19"
    settings.SANITY_TOKEN = TOKEN
    # Tests hammer single documents from many threads: allow many retries (production: 12).
    settings.SANITY_MAX_ATTEMPTS = overrides.get("attempts", 80)


@pytest.fixture(autouse=True)
def _store_backend(request, settings) -> None:
    """HAAT_TEST_STORE=sanity runs the whole suite against the Sanity stand-in."""
    if os.environ.get("HAAT_TEST_STORE") == "sanity":
        use_sanity(settings, request.getfixturevalue("sanity_standin"))


@pytest.fixture(autouse=True)
def _no_language_left_active() -> Iterator[None]:
    """A test that activates a language (tests/haat/test_languages.py does) must not leave it
    to the next test on the same worker, whose refusal messages would then be in Bangla."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    # Real hashing is deliberately slow; tests create hundreds of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True, scope="session")
def _pictures_drawn_once() -> Iterator[None]:
    """Saving a product image draws its six sized copies (catalog.images.variants_draw, about
    0.1 s); fixtures save the same few pictures test after test, so each is drawn once per run.
    The drawing is a pure function of the picture's bytes, so every save still stores the
    copies it would have drawn."""
    from catalog import images

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            images, "variants_draw", functools.lru_cache(maxsize=256)(images.variants_draw)
        )
        yield


@pytest.fixture(autouse=True)
def _media_in_tmp(
    settings: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    settings.MEDIA_ROOT = tmp_path_factory.getbasetemp() / "media"  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _background_tasks_inline(settings) -> None:
    # Mails from background tasks land in the test's outbox at once; the thread runner has
    # its own tests (tests/haat/test_background.py) and runs in the multi-process tests.
    settings.BACKGROUND_TASKS = "inline"


@pytest.fixture(autouse=True)
def _fresh_shared_cache(request) -> None:
    """Every test starts with empty rate-limit counters (the shared cache outlives the
    transactional tests' table flushes, and limits would otherwise add up across tests)."""
    if not ({"db", "transactional_db", "live_server"} & set(request.fixturenames)) and not (
        request.node.get_closest_marker("django_db")
    ):
        return  # no database access in this test: nothing to clear, and no access to clear it
    request.getfixturevalue("transactional_db" if _is_transactional(request) else "db")
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()


@pytest.fixture(autouse=True)
def _postgres_connection_budget(request) -> Iterator[None]:
    """One PostgreSQL concurrency test at a time on this machine, whatever the run or xdist
    worker: they open dozens of connections each (threads racing, server processes), and two
    at once exceeded the server's max_connections ("sorry, too many clients already")."""
    if (
        request.node.get_closest_marker("postgres") is None
        or not _is_transactional(request)
        or settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql"
    ):
        yield
        return
    database = settings.DATABASES["default"]
    name = f"haat-tests-postgres-{database.get('HOST') or 'local'}-{database.get('PORT') or 5432}"
    with (Path(tempfile.gettempdir()) / f"{name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@pytest.fixture(autouse=True)
def _no_delivery_zones(request, _fresh_shared_cache) -> None:
    """Tests start with no delivery zones (delivery free), so the amounts of tests about
    other things stay the items' sum; the ``delivery_zones`` fixture brings the shop's
    default zones. (The migration makes them, but the transactional tests' flushes drop them
    anyway, so without this a test would see them or not depending on what ran before.)"""
    if not ({"db", "transactional_db", "live_server"} & set(request.fixturenames)) and not (
        request.node.get_closest_marker("django_db")
    ):
        return
    from orders.models import DeliveryZone

    DeliveryZone.objects.all().delete()


@pytest.fixture
def delivery_zones(db: None) -> dict[str, object]:
    """The zones the migration makes: Inside Dhaka ৳ 60 (free from ৳ 3,000), the default, and
    Outside Dhaka ৳ 120 (free from ৳ 5,000)."""
    from orders.models import DeliveryZone

    inside = DeliveryZone.objects.create(
        name="Inside Dhaka",
        fee_minor=6000,
        free_from_minor=300000,
        cities="Dhaka\nঢাকা",
        is_default=True,
        position=1,
    )
    outside = DeliveryZone.objects.create(
        name="Outside Dhaka", fee_minor=12000, free_from_minor=500000, position=2
    )
    return {"inside": inside, "outside": outside}


def _is_transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return bool(
        "transactional_db" in request.fixturenames
        or "live_server" in request.fixturenames
        or (marker and marker.kwargs.get("transaction"))
    )


@pytest.fixture
def category(db: None) -> Category:
    n = next(_sequence)
    return Category.objects.create(name=f"Category {n}", slug=f"category-{n}")


@pytest.fixture
def make_product(db: None, category: Category) -> Callable[..., Product]:
    def make(
        *, stock: int = 10, price_minor: int = 125000, is_published: bool = True, **extra
    ) -> Product:
        n = next(_sequence)
        extra.setdefault("category", category)
        product = Product.objects.create(
            name=extra.pop("name", f"Product {n}"),
            slug=extra.pop("slug", f"product-{n}"),
            price_minor=price_minor,
            is_published=is_published,
            **extra,
        )
        if stock:
            stock_adjust(product_id=product.pk, delta=stock, reason=StockMovement.Reason.INITIAL)
            product.refresh_from_db()
        return product

    return make


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(email: str | None = None, password: str = PASSWORD, **extra) -> User:
        return User.objects.create_user(
            email=email or f"shopper{next(_sequence)}@example.com", password=password, **extra
        )

    return make


@pytest.fixture
def shopper(make_user: Callable[..., User]) -> User:
    return make_user("shopper@example.com")


@pytest.fixture
def shopper_client(client, shopper: User):
    client.force_login(shopper)
    return client


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture(scope="session", autouse=True)
def _background_tasks_in_process() -> None:
    """Tasks run in the test's own process whatever REDIS_URL says (as with `make run`); the
    tests that start real workers send to Redis through a producer of their own."""
    from haat.celery import app

    app.conf.task_always_eager = True


@pytest.fixture(scope="session")
def redis_url():
    """A Redis database of the tests' own (see tests/redis_server.py), emptied before use."""
    import redis

    from tests.redis_server import redis_for_tests

    with redis_for_tests() as url:
        redis.Redis.from_url(url).flushdb()
        yield url
        redis.Redis.from_url(url).flushdb()
