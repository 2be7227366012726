"""Command-line tools of the project (`make test`, `make cluster`); importable for tests."""
