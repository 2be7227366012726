"""ASGI entry point for `make prod` (granian): Django's ASGI handler reads each request's
headers and whole body without holding a Python thread, so slow clients cannot starve the
workers; views and middleware still run synchronously, one request at a time per worker."""

import os
import warnings

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haat.settings")

# Static files and media are file iterators; under ASGI Django reads them in a worker thread,
# as intended, and would otherwise warn about it once per process.
warnings.filterwarnings(
    "ignore", message="StreamingHttpResponse must consume synchronous iterators"
)

application = get_asgi_application()

# Only serving processes import this module (granian's workers): without a broker, they run the
# periodic jobs themselves, as the WSGI entry point does for runserver and gunicorn.
from haat.ticker import start_embedded_ticker  # noqa: E402

start_embedded_ticker()
