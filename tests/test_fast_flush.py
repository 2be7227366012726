"""The transactional tests' cheaper end (tests/fast_flush.py) leaves what Django's flush leaves."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.sql import emit_post_migrate_signal

from cart.services import cart_add_line
from tests.fast_flush import KEPT_TABLES, empty_written_tables, tables_with_rows

# On SQLite too: its flush is a DELETE per table, the probe is the same SQL.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sqlite]


@pytest.fixture
def written(make_product, shopper) -> None:
    """Rows in a dozen tables: category, product, its ledger, user, cart, cart line, group."""
    product = make_product(stock=5)
    cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=2)
    Group.objects.create(name="Packers").permissions.add(
        Permission.objects.get(codename="change_product")
    )


def kept_rows() -> tuple[list[tuple[int, str, str]], list[tuple[int, int, str]]]:
    return (
        sorted(ContentType.objects.values_list("pk", "app_label", "model")),
        sorted(Permission.objects.values_list("pk", "content_type_id", "codename")),
    )


def test_only_the_kept_tables_hold_rows_afterwards_as_after_djangos_flush(written):
    assert len(tables_with_rows()) > len(KEPT_TABLES) + 5
    kept_before = kept_rows()

    emptied = empty_written_tables()

    assert set(emptied).isdisjoint(KEPT_TABLES)
    after_fast = tables_with_rows()
    assert set(after_fast) == KEPT_TABLES
    assert kept_rows() == kept_before  # the same rows, the same ids: caches stay valid
    call_command("flush", verbosity=0, interactive=False)
    assert tables_with_rows() == after_fast  # what Django's flush leaves, too


def test_the_kept_rows_are_all_that_post_migrate_would_write_back(written):
    empty_written_tables()
    content_types, permissions = kept_rows()

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

    assert kept_rows() == (content_types, permissions)  # nothing was missing


def test_nothing_written_nothing_emptied(db):
    empty_written_tables()
    assert empty_written_tables() == []
