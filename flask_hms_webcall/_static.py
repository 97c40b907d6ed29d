"""The built widget, served under the prefix: ``widget.js`` (the loader, short-lived in caches, its URL fixed
across releases) and the content-hashed chunks (cached for a year, never stale)."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Response, send_from_directory

__all__ = ["STATIC_DIR", "WIDGET_FILE", "static_file", "widget"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
WIDGET_FILE = "widget.js"
# widget.js keeps its URL across releases, so browsers must look again soon; chunks carry a content hash in
# their name (esbuild's [hash]: 8 characters of A-Z and 2-7), so a cached copy can never be stale.
WIDGET_MAX_AGE = 60
IMMUTABLE_MAX_AGE = 365 * 24 * 3600
HASHED_NAME = re.compile(r"-[A-Z2-7]{8}\.(?:m?js|css|map|wasm)$")
NOT_BUILT_JS = 'console.error("flask-hms-webcall: the widget is not built; run `make widget`");\n'


def widget() -> Response:
    if not (STATIC_DIR / WIDGET_FILE).is_file():
        response = Response(NOT_BUILT_JS, status=503, mimetype="text/javascript")
        response.cache_control.no_store = True
        return response
    return static_file(WIDGET_FILE)


def static_file(filename: str) -> Response:
    immutable = HASHED_NAME.search(filename) is not None
    response = send_from_directory(
        STATIC_DIR, filename, max_age=IMMUTABLE_MAX_AGE if immutable else WIDGET_MAX_AGE, conditional=True
    )
    if immutable:
        response.cache_control.immutable = True
    return response
