"""The one home of the helpers for tests of the extension's HTTP face: a stubbed HMS (`responses`), apps whose
visitors sign in by ``POST /sign-in/<name>``, a client per visitor and address, signed webhooks, error
assertions, a real server on loopback, and ``wait_until`` for what happens in another thread or process.

The ``hms`` fixture (tests/conftest.py) yields a :class:`StubHMS`; hypothesis tests, whose examples would
share one function-scoped fixture, open their own with :func:`stubbed_hms`.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import pytest
import responses
from flask import Flask, session
from werkzeug.serving import make_server

from flask_hms_webcall import HMSWebCall
from flask_hms_webcall.cli import signed_headers
from flask_hms_webcall.hms import SIGNATURE_HEADER, TIMESTAMP_HEADER
from flask_hms_webcall.signature import signature_header
from flask_hms_webcall.store import Budget, CallStore

API_KEY = "fl_live_webcalls_SECRET_9a8b7c6d"
SECRET = "whsec_webcalls"
ASSISTANT_ID = "17a0cb75-fa09-4bdd-9a44-92a70d829c88"
SALES_ID = "5a4db0c5-0000-4000-8000-000000000002"
URL = "https://assistant-api.hmsovereign.com/v1/web-calls"
RESPONSE_FIELDS = {"call_id", "room_name", "token", "server_url", "expires_in", "max_duration"}

# What HMS answers, as a ``responses`` callback does: (status, headers, body as sent over the wire).
Answer = Callable[[Any], tuple[int, dict, str | bytes]]
T = TypeVar("T")


class StubHMS:
    """A stubbed ``POST /v1/web-calls``: answers a fresh call each time, or what a test tells it to:
    ``fail(status, json_body)``, an :data:`Answer` callback (see :func:`answering`), or an exception to raise
    (a timeout, a reset connection). Any other URL is refused by ``responses``."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.mock = mock
        self.ids = itertools.count(1)
        self.answer: tuple[int, object, dict] | Answer | BaseException | None = None
        mock.add_callback(responses.POST, URL, callback=self._respond)

    def _respond(self, request):
        if isinstance(self.answer, BaseException):
            raise self.answer
        if callable(self.answer):
            return self.answer(request)
        if self.answer is not None:
            status, body, headers = self.answer
            return status, headers, json.dumps(body)
        n = next(self.ids)
        call = {
            "success": True,
            "call_id": f"call-{n}",
            "room_name": f"web-{n}",
            "token": f"jwt-{n}",
            "server_url": "wss://rtc.hmsovereign.com",
        }
        return 200, {}, json.dumps(call)

    def fail(self, status: int, body: object, headers: dict | None = None) -> None:
        self.answer = (status, body, headers or {})

    @property
    def bodies(self) -> list[dict]:
        """What HMS received, parsed as strictly as HMS would: UTF-8 JSON, no NaN or Infinity."""
        return [_strict_json(call.request.body) for call in self.mock.calls]

    @property
    def count(self) -> int:
        return len(self.mock.calls)


def answering(status: int, body: str | bytes, headers: dict | None = None) -> Answer:
    """An answer for ``StubHMS.answer`` with a body exactly as given: an HTML page, plain text, nothing."""
    return lambda request: (status, headers or {}, body)


def _strict_json(raw: str | bytes) -> Any:
    # Whatever the browser sent, HMS receives strict UTF-8 JSON (lone surrogates escaped, no NaN).
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    return json.loads(text, parse_constant=_refuse_constant)


def _refuse_constant(name: str) -> None:
    raise AssertionError(f"{name} sent upstream: not JSON")


@contextmanager
def stubbed_hms() -> Iterator[StubHMS]:
    """HMS stubbed for the block: what the ``hms`` fixture yields, for one hypothesis example."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield StubHMS(mock)


def configured_app(**config: Any) -> Flask:
    """A Flask app configured for the extension (key, assistant, webhook secret, session key) but without it,
    for tests of ``HMSWebCall(app)`` / ``init_app`` themselves. ``config`` adds keys or replaces these."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="test",
        HMS_API_KEY=API_KEY,
        HMS_ASSISTANT_ID=ASSISTANT_ID,
        HMS_WEBHOOK_SECRET=SECRET,
    )
    app.config.update(config)
    return app


def make_app(*, identity: bool = True, limiter=None, **config: Any) -> tuple[Flask, HMSWebCall]:
    """An app using the extension whose visitors sign in by ``POST /sign-in/<name>`` (kept in the session;
    ``identity=False`` registers no identity loader). One call per user and a rate limit no test reaches by
    accident, unless ``config`` says otherwise."""
    app = configured_app(**{"HMS_MAX_CALLS_PER_USER": 1, "HMS_RATE_LIMIT": "100 per minute", **config})
    webcall = HMSWebCall(app, limiter=limiter)

    if identity:

        @webcall.identity_loader
        def who():
            return session.get("user")

    @app.post("/sign-in/<name>")
    def sign_in(name):
        session["user"] = name
        return "ok"

    return app, webcall


def client_for(app: Flask, user: str | None = None, ip: str = "203.0.113.7"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    if user is not None:
        client.post(f"/sign-in/{user}")
    return client


def start(client, body=None, **kwargs):
    if body is not None:
        kwargs["json"] = body
    return client.post("/hms/web-calls", **kwargs)


def signed(body: bytes, secret: str | None = SECRET, ts: int | None = None) -> dict[str, str]:
    """The timestamp and signature headers of a delivery of ``body``: signed with ``secret`` over ``ts`` (now
    by default), or only timestamped when ``secret`` is None."""
    ts = int(time.time()) if ts is None else ts
    headers = {TIMESTAMP_HEADER: str(ts)}
    if secret is not None:
        headers[SIGNATURE_HEADER] = signature_header(secret, ts, body)
    return headers


def webhook(app: Flask, payload: dict):
    """Delivers ``payload`` to the app the way HMS does (every header HMS sends, signed with ``SECRET``)."""
    body = json.dumps(payload).encode()
    headers = signed_headers(SECRET, payload["message"]["type"], body)
    return app.test_client().post("/hms/webhooks", data=body, headers=headers)


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    assert set(response.json) == {"error"}
    assert response.json["error"]["code"] == code
    assert isinstance(response.json["error"]["message"], str) and response.json["error"]["message"]
    text = response.get_data(as_text=True)
    assert "Traceback" not in text
    assert API_KEY not in text


PROBE_SLOT = "probe-slot"


def slots_held(store: CallStore, user_key: str | None = None) -> int:
    """Slots held by ``user_key`` (by everyone for ``None``), counted the way production counts them: one
    less than the lowest limit under which ``admit`` lets one more slot in. The probe's slot is released
    again."""
    for limit in range(1, 100):
        admission = store.admit(
            PROBE_SLOT,
            user_key or "probe-user",
            max_per_user=limit if user_key else 100,
            max_org=100 if user_key else limit,
            ttl=60,
        )
        if admission.admitted:
            store.release_slot(PROBE_SLOT)
            return limit - 1
    raise AssertionError("more than 98 slots held")


def seconds_charged(store: CallStore, budget: str) -> int:
    """Seconds charged to the daily budget named ``budget``, as ``admit`` sees them: the lowest limit under
    which a slot reserving nothing more is admitted. The probe's slot is released again."""
    low, high = 0, 10**7
    while low < high:
        limit = (low + high) // 2
        budgets = (Budget(budget, limit, 60),)
        admission = store.admit(PROBE_SLOT, "probe", max_per_user=100, max_org=100, ttl=60, budgets=budgets)
        if admission.admitted:
            store.release_slot(PROBE_SLOT)
            high = limit
        else:
            low = limit + 1
    return low


def wait_until(condition: Callable[[], T], timeout: float = 10.0, interval: float = 0.02) -> T:
    """Polls ``condition`` until it returns something truthy, and returns that; fails the test after
    ``timeout`` seconds. For what another thread or process does: never a measure of how fast it is."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout}s")
        time.sleep(interval)


class LoopbackServer:
    """A real HTTP server on a free 127.0.0.1 port, served from a thread until :meth:`stop`: a WSGI app (the
    app under test, so a request goes through a socket), or an ``http.server`` handler class for an HMS that
    misbehaves below what WSGI can express (its reason phrase, never answering)."""

    def __init__(self, app: Callable[..., Any] | type[BaseHTTPRequestHandler]) -> None:
        if isinstance(app, type) and issubclass(app, BaseHTTPRequestHandler):
            self.server: Any = ThreadingHTTPServer(("127.0.0.1", 0), app)
            self.server.daemon_threads = True  # a handler that never answers must not hold up stop()
        else:
            self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port: int = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(10)
