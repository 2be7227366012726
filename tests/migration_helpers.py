"""Move one app's schema to a given migration in a test, to check a data migration on rows
written with the older schema. Use it in a transactional test (``django_db(transaction=True)``)
and migrate back to the latest (``migration=None``) when done."""

from __future__ import annotations

from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate_app(app_label: str, migration: str | None) -> Apps:
    """Migrate ``app_label`` to ``migration`` (None: its latest), every other app to its
    latest; returns the historical models of that state."""
    executor = MigrationExecutor(connection)
    targets = [
        (app, migration) if app == app_label and migration else (app, name)
        for app, name in executor.loader.graph.leaf_nodes()
    ]
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps
