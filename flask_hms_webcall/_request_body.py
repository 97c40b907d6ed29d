"""Reading a request's body under a size limit, and checking the browser's JSON body against a schema.

The webhook route needs the raw bytes (the signature covers them exactly); the browser routes need a JSON
object their schema accepts, and a message that says which field is wrong without echoing what was sent.
"""

from __future__ import annotations

import json
from typing import Any

from flask import request
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.wsgi import get_content_length

from .errors import BrowserError
from .schemas import (
    MAX_CHALLENGE_LENGTH,
    MAX_COMMENT_LENGTH,
    MAX_CONSENT_LENGTH,
    MAX_CONTEXT_ENTRIES,
    MAX_CONTEXT_VALUE_LENGTH,
)

__all__ = ["MAX_REQUEST_BYTES", "parsed_body", "read_body"]

MAX_REQUEST_BYTES = 8 * 1024
FIELD_PROBLEMS = {
    "assistant": "assistant must be the name of one of the site's assistants",
    "context": (
        f"context must be an object of at most {MAX_CONTEXT_ENTRIES} entries, keys of 1-40 letters, "
        f"digits, '_' or '-', values text of at most {MAX_CONTEXT_VALUE_LENGTH} characters"
    ),
    "challenge": f"challenge must be text of 1-{MAX_CHALLENGE_LENGTH} characters",
    "consent": f"consent must be the accepted consent version, 1-{MAX_CONSENT_LENGTH} characters",
    "rating": "rating must be 'up' or 'down'",
    "comment": f"comment must be text of at most {MAX_COMMENT_LENGTH} characters",
}


def read_body(limit: int) -> bytes | None:
    """The raw request body, or ``None`` when it is longer than ``limit`` bytes. A declared length over the
    limit is refused unread; a streamed body (no Content-Length) is read no further than the limit."""
    environ = request.environ
    length = get_content_length(environ)  # as request.content_length, without its header lookups
    if length is not None and length > limit:
        return None
    if length is None or "wsgi.input_terminated" in environ:
        # Chunked, or no body: Werkzeug's stream ends it (and applies the app's MAX_CONTENT_LENGTH).
        body = _read_up_to(request.stream, limit + 1)
        return None if len(body) > limit else body
    # A declared length is read from the server's input itself, exactly that many bytes, which is all that
    # Werkzeug's stream would add here: building that stream cost a signed webhook delivery half of what the
    # extension adds to a bare HMAC view (docs/deployment.md). Its two refusals are kept as it words them.
    max_length = request.max_content_length
    if max_length is not None and length > max_length:
        raise RequestEntityTooLarge()
    body = _read_up_to(environ["wsgi.input"], length)
    if len(body) < length:
        raise ClientDisconnected()  # the input ended before the length the client declared
    return body


def _read_up_to(stream: Any, size: int) -> bytes:
    # A socket hands the body over in pieces (a read returns what has arrived), so read until it ends.
    chunks: list[bytes] = []
    got = 0
    while got < size:
        chunk = stream.read(size - got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)  # one chunk is returned as it is, not copied


def parsed_body(
    schema: Schema, *, allowed: str, empty_ok: bool = True
) -> tuple[dict[str, Any] | None, BrowserError | None]:
    """The browser's JSON body checked by ``schema`` (an empty body or ``{}``, nothing to check, means all
    defaults when ``empty_ok``), or the error to answer, returned for the caller to decide when it counts."""
    raw = read_body(MAX_REQUEST_BYTES)
    if raw is None:
        return None, BrowserError("invalid_request", "The request body is too large.")
    if not raw.strip() and empty_ok:
        return {}, None
    if request.mimetype != "application/json":
        return None, BrowserError(
            "invalid_request", "The request body must be JSON (Content-Type application/json)."
        )
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None, BrowserError("invalid_request", "The request body is not valid JSON.")
    if not isinstance(data, dict):
        return None, BrowserError("invalid_request", "The request body must be a JSON object.")
    try:
        return (schema.load(data) if data or not empty_ok else {}), None
    except ValidationError as exc:
        return None, BrowserError("invalid_request", _describe(exc.messages, allowed))


def _describe(messages: Any, allowed: str) -> str:
    problems = []
    for name in sorted(messages if isinstance(messages, dict) else {}, key=str):
        if name in FIELD_PROBLEMS:
            problems.append(FIELD_PROBLEMS[name])
        else:
            problems.append(f"unknown field {str(name)[:40]!r}: only {allowed} are accepted")
        if len(problems) == 3:
            break
    return ("Invalid request: " + "; ".join(problems) + ".") if problems else "The request is not valid."
