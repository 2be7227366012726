"""WSGI entry point for gunicorn: ``gunicorn haat.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haat.settings")

application = get_wsgi_application()
