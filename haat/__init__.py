"""Haat: the Django project. Loading it loads the Celery app, so ``@shared_task`` tasks bind to
it and ``celery -A haat`` finds it."""

from haat.celery import app as celery_app

__all__ = ("celery_app",)
