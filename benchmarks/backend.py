"""How close the extension stays to a bare proxy, measured in one process and one run, interleaved.

- Creates: ``POST /hms/web-calls`` through the extension vs a bare Flask view that forwards the same body to
  the same local stub HMS with a pooled ``requests.Session``: median and p99 of each, and their ratio
  (goal: a median at most 1.1x; the p99 is shown, but on a shared machine it measures the neighbours).
- Webhooks: signed deliveries verified, parsed, de-duplicated and dispatched by the extension vs a bare view
  that only checks the HMAC: throughput of each, and their ratio (goal: at least 0.9x).

Both sides run in the same Flask app through the same WSGI test client, one request of each kind in turn,
so machine noise hits both alike; a run measures several rounds and shows the median ratio of the rounds
with their range. ``python benchmarks/backend.py [--creates N] [--webhooks N] [--rounds N] [--profile]``.
Figures only; nothing here passes or fails a test.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import hmac
import itertools
import json
import logging
import pstats
import statistics
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
from flask import Flask, Response, jsonify, request

from flask_hms_webcall import HMSWebCall
from flask_hms_webcall.signature import delivery_headers

API_KEY = "fl_live_bench_SECRET"
SECRET = "whsec_bench"
ASSISTANT_ID = "17a0cb75-fa09-4bdd-9a44-92a70d829c88"
CREATE_GOAL = 1.1
WEBHOOK_GOAL = 0.9


class _StubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: both sides reuse their pooled connection
    disable_nagle_algorithm = True

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = STUB_BODY % next(self.server.ids)  # type: ignore[attr-defined]
        # One write for the whole answer: split in two, Nagle and delayed ACKs add 40 ms to some requests.
        self.wfile.write(STUB_HEAD % len(body) + body)


STUB_BODY = (
    b'{"success":true,"call_id":"call-%d","room_name":"web-3f2a1b4c",'
    b'"token":"eyJhbGciOiJIUzI1NiJ9.payload.signature","server_url":"wss://rtc.example"}'
)
STUB_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"


def stub_hms() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StubHandler)
    server.daemon_threads = True
    server.ids = itertools.count(1)  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def make_app(hms_url: str) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="bench",
        HMS_API_KEY=API_KEY,
        HMS_ASSISTANT_ID=ASSISTANT_ID,
        HMS_WEBHOOK_SECRET=SECRET,
        HMS_API_BASE_URL=hms_url,
        HMS_RATE_LIMIT="10000000 per minute",
    )
    webcall = HMSWebCall(app)

    @webcall.on()
    def handled(event: Any) -> None:
        pass

    upstream = requests.Session()
    upstream_url = hms_url + "/v1/web-calls"

    @app.post("/bare/web-calls")
    def bare_create() -> Response:
        # The same request to the same HMS, and the same answer shape, with no checks at all.
        answer = upstream.post(
            upstream_url,
            data=json.dumps({"assistant_id": ASSISTANT_ID}),
            headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
            timeout=10,
        )
        response = jsonify(answer.json())
        response.status_code = 201
        return response

    @app.post("/bare/webhooks")
    def bare_webhook() -> Response:
        body = request.get_data()
        timestamp = request.headers.get("X-Webhook-Timestamp", "")
        expected = (
            "sha256=" + hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        )
        if not hmac.compare_digest(expected, request.headers.get("X-Webhook-Signature", "")):
            return Response(status=401)
        return jsonify({"ok": True})

    return app


def deliveries(count: int) -> list[tuple[bytes, dict[str, str]]]:
    """``count`` distinct signed deliveries (a duplicate would be answered without dispatch: too cheap)."""
    out = []
    for n in range(count):
        message = {
            "type": "status-update",
            "status": "in-progress",
            "call": {"id": f"call-{n}", "type": "web_call", "status": "in-progress"},
            "assistant": {"metadata": {"user_id": "usr_1"}},
        }
        body = json.dumps({"message": message}).encode()
        out.append((body, delivery_headers("status-update", body, SECRET)))
    return out


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def bench_creates(app: Flask, count: int) -> tuple[list[float], list[float]]:
    client = app.test_client()
    store = app.extensions["hms_webcall"].store
    ours: list[float] = []
    bare: list[float] = []
    for n in range(count + 50):
        for path, times in (
            (("/hms/web-calls", ours), ("/bare/web-calls", bare))
            if n % 2
            else (
                ("/bare/web-calls", bare),
                ("/hms/web-calls", ours),
            )
        ):
            started = time.perf_counter()
            response = client.post(path, json={})
            elapsed = time.perf_counter() - started
            if response.status_code != 201:
                raise SystemExit(f"{path}: {response.status_code} {response.get_data(as_text=True)}")
            if path == "/hms/web-calls":
                # The call ends (untimed), as HMS's final webhook would say: the store holds a few live
                # calls at most, as it does for real (HMS allows 3 per organisation).
                store.release_call(response.json["call_id"])
            if n >= 50:  # the first ones warm the pools and caches up
                times.append(elapsed)
    return ours, bare


def bench_webhooks(app: Flask, count: int, batch: int = 20) -> tuple[float, float, float]:
    """Throughput of each side, and the median of per-batch ratios: each batch of ours runs right next to
    one of the bare view's, so a burst of load from elsewhere on the machine skews one ratio, not all."""
    client = app.test_client()
    signed = deliveries(count + batch)
    ours = bare = 0.0
    ratios: list[float] = []
    for start in range(0, count + batch, batch):
        times = {}
        for path in (
            ("/hms/webhooks", "/bare/webhooks")
            if start % (2 * batch)
            else ("/bare/webhooks", "/hms/webhooks")
        ):
            started = time.perf_counter()
            for body, headers in signed[start : start + batch]:
                response = client.post(path, data=body, headers=headers)
                if response.status_code != 200:
                    raise SystemExit(f"{path}: {response.status_code} {response.get_data(as_text=True)}")
            times[path] = time.perf_counter() - started
        if start >= batch:  # the first batch warms up
            ours += times["/hms/webhooks"]
            bare += times["/bare/webhooks"]
            ratios.append(times["/bare/webhooks"] / times["/hms/webhooks"])
    return count / ours, count / bare, statistics.median(ratios)


def spread(values: list[float]) -> str:
    """The median of a round's figures, and their range when there were several rounds."""
    middle = f"{statistics.median(values):.2f}x"
    return middle if len(values) == 1 else f"{middle} ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--creates", type=int, default=1000, help="creates of each side per round")
    parser.add_argument("--webhooks", type=int, default=3000, help="deliveries to each side per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds in this run (default 3)")
    parser.add_argument("--profile", action="store_true", help="print where the extension's time goes")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")

    hms = stub_hms()
    app = make_app(f"http://127.0.0.1:{hms.server_address[1]}")
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    ours: list[float] = []
    bare: list[float] = []
    create_ratios: list[float] = []
    p99_ratios: list[float] = []
    ours_rate = bare_rate = 0.0
    webhook_ratios: list[float] = []
    for _ in range(args.rounds):
        round_ours, round_bare = bench_creates(app, args.creates)
        ours += round_ours
        bare += round_bare
        create_ratios.append(statistics.median(round_ours) / statistics.median(round_bare))
        p99_ratios.append(percentile(round_ours, 0.99) / percentile(round_bare, 0.99))
        round_ours_rate, round_bare_rate, ratio = bench_webhooks(app, args.webhooks)
        ours_rate += round_ours_rate / args.rounds
        bare_rate += round_bare_rate / args.rounds
        webhook_ratios.append(ratio)
    if profiler:
        profiler.disable()
    hms.shutdown()

    rounds = f"{args.rounds} round{'s' if args.rounds > 1 else ''}"
    print(f"creates ({args.creates} each per round, {rounds}, interleaved, against a local stub HMS):")
    for name, times in (("extension ", ours), ("bare proxy", bare)):
        print(
            f"  {name} median {statistics.median(times) * 1e3:.3f} ms  "
            f"p99 {percentile(times, 0.99) * 1e3:.3f} ms"
        )
    create_ratio = statistics.median(create_ratios)
    print(
        f"  ratio      median {spread(create_ratios)}  p99 {spread(p99_ratios)}  "
        f"(goal: median <= {CREATE_GOAL}x: {'met' if create_ratio <= CREATE_GOAL else 'NOT met'})"
    )
    print(f"signed webhooks ({args.webhooks} each per round, {rounds}, interleaved in batches of 20):")
    print(f"  extension  {ours_rate:,.0f}/s (verified, parsed, de-duplicated, dispatched)")
    print(f"  bare HMAC  {bare_rate:,.0f}/s")
    webhook_ratio = statistics.median(webhook_ratios)
    print(
        f"  ratio      {spread(webhook_ratios)} (each round: the median of its batches' ratios)  "
        f"(goal >= {WEBHOOK_GOAL}x: {'met' if webhook_ratio >= WEBHOOK_GOAL else 'NOT met'})"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
