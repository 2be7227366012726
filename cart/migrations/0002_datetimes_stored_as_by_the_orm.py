from functools import partial

from django.db import migrations

from haat.store.datetime_fix import normalise_datetime_text


class Migration(migrations.Migration):
    """SQLite: cart datetimes written by the store's SQL with "+00:00" are stored as the ORM
    stores them (same instants; see haat/store/datetime_fix.py). PostgreSQL: nothing to do."""

    dependencies = [
        ("cart", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(
            partial(
                normalise_datetime_text,
                fields=[("cart", "Cart", "updated_at"), ("cart", "CartLine", "added_at")],
            ),
            migrations.RunPython.noop,
        ),
    ]
