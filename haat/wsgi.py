"""WSGI entry point: what `make prod` serves (``granian --interface wsgi haat.wsgi:application``);
gunicorn (``gunicorn haat.wsgi``) serves it too."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haat.settings")

application = get_wsgi_application()

# Only serving processes import this module (runserver's child, gunicorn's workers): without a
# broker, they run the periodic jobs themselves.
from haat.ticker import start_embedded_ticker  # noqa: E402

start_embedded_ticker()
