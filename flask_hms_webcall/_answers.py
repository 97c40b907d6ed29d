"""Reading HMS's answers: the body, never more of it than ``MAX_RESPONSE_BYTES`` (and what arrived of it when
a deadline cut it short), HMS's error text and code in each shape HMS writes them, and ``Retry-After``."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import requests

__all__ = ["MAX_RESPONSE_BYTES", "error_detail", "partial_call_id", "read_limited", "retry_after"]

MAX_RESPONSE_BYTES = 64 * 1024
# Only the call id is taken from an answer cut short by the deadline, for the log: the token stays out of it.
PARTIAL_CALL_ID = re.compile(rb'"call_id"\s*:\s*"([A-Za-z0-9_.:-]{1,200})"')


def read_limited(response: requests.Response, chunks: list[bytes]) -> bytes:
    """The body, at most ``MAX_RESPONSE_BYTES``; ``chunks`` keeps what arrived if the deadline cuts it."""
    # ``read1`` hands over whatever has arrived, where ``iter_content`` waits for full chunks: so a body cut
    # short by the deadline still shows its call id. urllib3 1.x has no ``read1``.
    read1 = getattr(response.raw, "read1", None)
    pieces = iter(lambda: read1(8192, decode_content=True), b"") if read1 else response.iter_content(8192)
    size = 0
    for chunk in pieces:
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def error_detail(raw: bytes) -> tuple[str | None, str | None]:
    """HMS's error text and code from ``{"detail": ...}`` (FastAPI style, a string or a list of problems),
    ``{"error": {"code", "message"}}`` or ``{"error": "...", "message": "..."}``."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        text = raw.decode("utf-8", "replace").strip()
        return (" ".join(text.split()) or None), None
    if not isinstance(data, dict):
        return None, None
    detail = data.get("detail")
    if isinstance(detail, str):
        return detail, None
    if isinstance(detail, list):
        parts = [item.get("msg") if isinstance(item, dict) else item for item in detail]
        texts = [part for part in parts if isinstance(part, str)]
        if texts:
            return "; ".join(texts), None
    error = data.get("error")
    if isinstance(error, dict):
        message, code = error.get("message"), error.get("code")
        return (
            message if isinstance(message, str) else None,
            code if isinstance(code, str) else None,
        )
    message = data.get("message")
    if isinstance(error, str):
        return (message if isinstance(message, str) else error), error
    if isinstance(message, str):
        return message, None
    return None, None


def retry_after(value: str | None) -> int | None:
    if value and value.strip().isdigit():
        return min(int(value.strip()), 3600)
    return None


def partial_call_id(partial: bytes) -> str | None:
    """The call id in an answer the deadline cut short, if it arrived."""
    match = PARTIAL_CALL_ID.search(partial)
    return match.group(1).decode() if match else None
