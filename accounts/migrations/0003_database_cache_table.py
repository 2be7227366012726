"""The shared cache's table (settings: ``haat.cache.DatabaseCache`` when REDIS_URL is unset).

Created here so that ``migrate`` is the only command a new installation needs; it is created
even when Redis is configured, so switching REDIS_URL off later needs nothing else."""

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

TABLE = "haat_cache"


def create_table(apps, schema_editor):
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, TABLE, dry_run=False)


def drop_table(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_user_clerk_user_id")]

    operations = [migrations.RunPython(create_table, drop_table)]
