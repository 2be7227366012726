"""Where a test runs in `make test`: the path rules behind the marks `sqlite` and `store`.

Plain Python with no Django import, so that tests/conftest.py marks the tests by them and
scripts/run_tests.py hands each small pass only the files these rules can mark (collecting the
whole suite to deselect most of it costs a pass 6 s of CPU more)."""

from __future__ import annotations

from pathlib import Path

# Where a test runs in `make test` (scripts/run_tests.py): every test runs on PostgreSQL; a test
# marked `sqlite` runs on SQLite too, one marked `store` with the Sanity store too. The marks
# come from these rules (a module may also mark itself with `pytestmark`), so a new test lands
# by its folder or file, and only a test that uses the test database gets either mark (the
# others test nothing a backend changes). SQLite: what has SQL of its own or SQLite-specific
# code paths (the database store's SQL and its ledger fallback, the database cache, migrations,
# the demo seed).
SQLITE_PATHS = (
    "tests/store/",
    "tests/catalog/test_stock_service.py",
    "tests/catalog/test_seed_demo.py",
    "tests/cart/test_cart_services.py",
    "tests/cart/test_cart_properties.py",
    "tests/wishlist/test_wishlist_services.py",
    "tests/checkout/test_checkout_start.py",
    "tests/checkout/test_checkout_cancel.py",
    "tests/checkout/test_reservation_expiry.py",
    "tests/haat/test_shared_cache.py",
    "tests/haat/test_rate_limits.py",
)
# The Sanity store: the tests of what the store interface itself does (haat/store), not of what
# merely passes through it (pages, checkout, orders, browser flows read and write through the
# same store calls, and each call is tested here): the services, API, property and concurrency
# tests of carts and wishlists (by folder and by what the file name says it tests). tests/store/
# runs the store contract against both backends itself, in every pass; any other module may
# say `pytestmark = pytest.mark.store`.
STORE_FOLDERS = ("tests/cart/", "tests/wishlist/")
STORE_FILE_WORDS = ("services", "api", "properties", "concurrency")
# Whole-code-base checks (marker quality) live here; make test runs them beside the passes.
QUALITY_FOLDER = "tests/quality/"


def sqlite_path(path: str) -> bool:
    """Tests in this file (relative, POSIX) that use the test database run on SQLite too."""
    return path.startswith(SQLITE_PATHS) or "migration" in Path(path).name


def store_path(path: str) -> bool:
    """Tests in this file that use the test database run with the Sanity store too."""
    return path.startswith(STORE_FOLDERS) and any(
        word in Path(path).stem for word in STORE_FILE_WORDS
    )


def files_for(mark: str, root: Path) -> list[str]:
    """The test files a pass of ``mark`` (sqlite or store) must collect: those the path rules
    mark, and any module that marks itself (``pytestmark``, or the mark on a test)."""
    rule = {"sqlite": sqlite_path, "store": store_path}[mark]
    files = []
    for file in sorted((root / "tests").rglob("test_*.py")):
        path = file.relative_to(root).as_posix()
        if path.startswith(("tests/cluster/", QUALITY_FOLDER)):
            continue
        if rule(path) or f"pytest.mark.{mark}" in file.read_text(encoding="utf-8"):
            files.append(path)
    return files
