"""The example app's record of calls: one SQLite table, filled by the webhook handlers.

Webhooks can arrive late, twice or out of order (a retried ``status-update`` after the report), so every
write is an upsert that never moves a call backwards: an ended call stays ended and a known field is never
blanked by a delivery that lacks it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g

SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    call_id          TEXT PRIMARY KEY,
    user_id          TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    status           TEXT,
    ended_reason     TEXT,
    duration_seconds INTEGER,
    summary          TEXT,
    transcript       TEXT
);
CREATE TABLE IF NOT EXISTS tool_calls (
    call_id    TEXT NOT NULL,
    at         TEXT NOT NULL,
    name       TEXT NOT NULL,
    arguments  TEXT NOT NULL,
    result     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tool_calls_by_call ON tool_calls (call_id);
CREATE TABLE IF NOT EXISTS feedback (
    call_id    TEXT PRIMARY KEY,
    at         TEXT NOT NULL,
    rating     TEXT NOT NULL,
    comment    TEXT
);
CREATE TABLE IF NOT EXISTS usage (
    call_id    TEXT PRIMARY KEY,
    day        TEXT NOT NULL,
    anonymous  INTEGER NOT NULL,
    seconds    INTEGER NOT NULL
);
"""

FINAL_STATUSES = ("ended", "ended-with-error")

# The status only moves forward; the other fields keep what they had when a delivery does not carry them.
_UPSERT_STATUS = """
INSERT INTO calls (call_id, user_id, created_at, updated_at, status, ended_reason)
VALUES (:call_id, :user_id, :now, :now, :status, :ended_reason)
ON CONFLICT (call_id) DO UPDATE SET
    user_id = COALESCE(calls.user_id, excluded.user_id),
    updated_at = excluded.updated_at,
    status = CASE WHEN calls.status IN ('ended', 'ended-with-error') THEN calls.status
                  ELSE COALESCE(excluded.status, calls.status) END,
    ended_reason = COALESCE(calls.ended_reason, excluded.ended_reason)
"""

_UPSERT_REPORT = """
INSERT INTO calls (call_id, user_id, created_at, updated_at, status, ended_reason, duration_seconds,
                   summary, transcript)
VALUES (:call_id, :user_id, :now, :now, 'ended', :ended_reason, :duration_seconds, :summary, :transcript)
ON CONFLICT (call_id) DO UPDATE SET
    user_id = COALESCE(calls.user_id, excluded.user_id),
    updated_at = excluded.updated_at,
    status = CASE WHEN calls.status = 'ended-with-error' THEN calls.status ELSE 'ended' END,
    ended_reason = COALESCE(excluded.ended_reason, calls.ended_reason),
    duration_seconds = COALESCE(excluded.duration_seconds, calls.duration_seconds),
    summary = COALESCE(excluded.summary, calls.summary),
    transcript = COALESCE(excluded.transcript, calls.transcript)
"""

# A member's calls by name; an anonymous visitor's by the ids their browser holds, and only calls made
# without a name, so an id alone never shows a member's call.
_CALLS_OF = """
SELECT calls.*, feedback.rating, feedback.comment FROM calls LEFT JOIN feedback USING (call_id)
WHERE (:user_id IS NOT NULL AND calls.user_id = :user_id)
   OR (:user_id IS NULL AND calls.user_id IS NULL
       AND calls.call_id IN (SELECT value FROM json_each(:call_ids)))
ORDER BY calls.created_at DESC, calls.rowid DESC LIMIT :limit
"""

_TOOL_CALLS_OF = """
SELECT * FROM tool_calls WHERE call_id IN (SELECT value FROM json_each(?)) ORDER BY rowid
"""


@dataclass(frozen=True)
class CallRow:
    call_id: str
    user_id: str | None
    created_at: datetime
    status: str | None
    ended_reason: str | None
    duration_seconds: int | None
    summary: str | None
    transcript: list[dict[str, str]]
    tool_calls: list[ToolCallRow] = field(default_factory=list)
    rating: str | None = None  # the caller's feedback: "up" or "down"
    comment: str | None = None


@dataclass(frozen=True)
class ToolCallRow:
    name: str
    arguments: str  # JSON, as the assistant sent them
    result: str  # text, or JSON of the object the tool returned


def init_app(app: Flask) -> None:
    """Create the table if needed and close each request's connection when the request ends."""
    path = Path(app.config["DATABASE"])
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:
        conn.executescript(SCHEMA)
    app.teardown_appcontext(_close)


def _connection() -> sqlite3.Connection:
    if "calls_db" not in g:
        # The dev server is threaded and webhooks write while a page reads: wait for a lock, never fail.
        conn = sqlite3.connect(current_app.config["DATABASE"], timeout=10)
        conn.row_factory = sqlite3.Row
        g.calls_db = conn
    return g.calls_db


def _close(_exc: BaseException | None = None) -> None:
    conn = g.pop("calls_db", None)
    if conn is not None:
        conn.close()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def record_status(call_id: str, *, user_id: str | None, status: str | None, ended_reason: str | None) -> None:
    conn = _connection()
    with conn:
        conn.execute(
            _UPSERT_STATUS,
            {
                "call_id": call_id,
                "user_id": user_id,
                "now": _now(),
                "status": status,
                "ended_reason": ended_reason,
            },
        )


def record_report(
    call_id: str,
    *,
    user_id: str | None,
    ended_reason: str | None,
    duration_seconds: int | None,
    summary: str | None,
    transcript: list[dict[str, str]] | None,
) -> None:
    conn = _connection()
    with conn:
        conn.execute(
            _UPSERT_REPORT,
            {
                "call_id": call_id,
                "user_id": user_id,
                "now": _now(),
                "ended_reason": ended_reason,
                "duration_seconds": duration_seconds,
                "summary": summary,
                "transcript": None if transcript is None else json.dumps(transcript),
            },
        )


def record_tool_call(call_id: str, *, name: str, arguments: Any, result: Any) -> None:
    """A tool the assistant called during the call, with what the app answered."""
    conn = _connection()
    with conn:
        conn.execute(
            "INSERT INTO tool_calls (call_id, at, name, arguments, result) VALUES (?, ?, ?, ?, ?)",
            (
                call_id,
                _now(),
                name,
                json.dumps(arguments, ensure_ascii=False, sort_keys=True),
                result if isinstance(result, str) else json.dumps(result, ensure_ascii=False),
            ),
        )


def record_feedback(call_id: str, *, rating: str, comment: str | None) -> None:
    """The caller's rating of their call (the extension accepts it once per call)."""
    conn = _connection()
    with conn:
        conn.execute(
            "INSERT OR REPLACE INTO feedback (call_id, at, rating, comment) VALUES (?, ?, ?, ?)",
            (call_id, _now(), rating, comment),
        )


def record_usage(call_id: str, *, day: str, anonymous: bool, seconds: int) -> None:
    """How long an ended call lasted, counted on the budget day it ended (once per call)."""
    conn = _connection()
    with conn:
        conn.execute(
            "INSERT OR IGNORE INTO usage (call_id, day, anonymous, seconds) VALUES (?, ?, ?, ?)",
            (call_id, day, int(anonymous), seconds),
        )


def usage_on(day: str) -> dict[str, int]:
    """Seconds of calls on ``day``: ``{"all": ..., "anonymous": ...}``."""
    row = (
        _connection()
        .execute(
            "SELECT COALESCE(SUM(seconds), 0), COALESCE(SUM(seconds * anonymous), 0) "
            "FROM usage WHERE day = ?",
            (day,),
        )
        .fetchone()
    )
    return {"all": int(row[0]), "anonymous": int(row[1])}


def list_calls(*, user_id: str | None, call_ids: Sequence[str] = (), limit: int = 200) -> list[CallRow]:
    """One caller's calls, the most recent first, each with its tool calls in the order they happened and its
    rating: those of the signed-in ``user_id``, or (``None``) the anonymous calls among ``call_ids``."""
    conn = _connection()
    ids = json.dumps([str(call_id) for call_id in call_ids])
    rows = conn.execute(_CALLS_OF, {"user_id": user_id, "call_ids": ids, "limit": limit}).fetchall()
    tools: dict[str, list[ToolCallRow]] = {}
    for t in conn.execute(_TOOL_CALLS_OF, (json.dumps([r["call_id"] for r in rows]),)):
        tools.setdefault(t["call_id"], []).append(ToolCallRow(t["name"], t["arguments"], t["result"]))
    return [_row(r, tools.get(r["call_id"], [])) for r in rows]


def _row(r: sqlite3.Row, tool_calls: list[ToolCallRow]) -> CallRow:
    return CallRow(
        call_id=r["call_id"],
        user_id=r["user_id"],
        created_at=datetime.fromisoformat(r["created_at"]),
        status=r["status"],
        ended_reason=r["ended_reason"],
        duration_seconds=r["duration_seconds"],
        summary=r["summary"],
        transcript=_load_transcript(r["transcript"]),
        tool_calls=tool_calls,
        rating=r["rating"],
        comment=r["comment"],
    )


def _load_transcript(text: str | None) -> list[dict[str, str]]:
    if not text:
        return []
    try:
        value: Any = json.loads(text)
    except ValueError:
        return []
    return value if isinstance(value, list) else []
