"""Settings of the test suite's own multi-process servers (tests/multiprocess_server.py,
tests/gunicorn_server.py): Haat's, with the fast password hasher the test process uses
(tests/conftest.py). A real hash costs about a second of CPU, and these servers' tests sign in
and up dozens of times to test limits and sessions, not hashing (the production-mode servers,
tests/production_mode.py, keep the real hashers)."""

from haat.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
