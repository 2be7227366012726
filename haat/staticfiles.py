"""Static files as production serves them: the shop's hand-written JavaScript is minified when
collected (rjsmin), before whitenoise names each file by its content and compresses it. The
sources stay readable in the repository and under runserver; pages ship the small form."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import rjsmin
from django.core.files.base import ContentFile
from whitenoise.storage import CompressedManifestStaticFilesStorage

# Only our own scripts: third-party files arrive minified, and a file minified twice is the same.
MINIFIED_PREFIX = "haat/js/"


def minify_js(source: str) -> str:
    """The script as shipped: comments and spaces removed, behaviour unchanged."""
    return rjsmin.jsmin(source, keep_bang_comments=False)


class MinifiedStaticFilesStorage(CompressedManifestStaticFilesStorage):
    def post_process(
        self, paths: dict[str, Any], dry_run: bool = False, **options: Any
    ) -> Iterator:
        if not dry_run:
            for path in paths:
                if path.startswith(MINIFIED_PREFIX) and path.endswith(".js"):
                    with self.open(path) as file:
                        source = file.read().decode()
                    minified = minify_js(source)
                    if minified != source:
                        self.delete(path)
                        self._save(path, ContentFile(minified.encode()))
                    # The hashed copy is made from the file each entry points at (the finder's
                    # source by default): point it at the minified one.
                    paths[path] = (self, path)
        yield from super().post_process(paths, dry_run=dry_run, **options)
