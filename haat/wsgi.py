"""WSGI entry point for gunicorn: ``gunicorn haat.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haat.settings")

application = get_wsgi_application()

# Only serving processes import this module (runserver's child, gunicorn's workers): without a
# broker, they run the periodic jobs themselves.
from haat.ticker import start_embedded_ticker  # noqa: E402

start_embedded_ticker()
