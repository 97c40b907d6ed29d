"""gunicorn settings for a site using flask-hms-webcall, behind nginx (deploy/nginx.conf).

Run: ``gunicorn -c deploy/gunicorn.conf.py yourpackage.app:app`` (deploy/hms-webcall.service does).
Every value can be overridden on the command line (``--bind``, ``--workers``...).
"""

from __future__ import annotations

import ctypes
import os
import sys
import time
from typing import Any

# nginx talks to this socket (upstream hms_webcall); systemd creates /run/hms-webcall (RuntimeDirectory).
bind = "unix:/run/hms-webcall/gunicorn.sock"
umask = 0o007  # the socket is for the service's user and group (nginx's www-data) only

# gthread: each worker serves `threads` requests at once. A create waits up to HMS_REQUEST_TIMEOUT on HMS,
# so threads let other visitors and HMS's webhooks through meanwhile. With several workers the call store
# must be shared: HMS_STORAGE_URI=redis://...
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 2)
threads = 8

# A gthread worker keeps its heartbeat while a request runs, so `timeout` only catches a frozen worker.
timeout = 30
# On restart a worker may finish what it is doing for this long. Shorter than HMS_WEBHOOK_CLAIM_TTL (15 s):
# a webhook cut by the final kill is claimed no longer than that, and HMS's retry is then handled.
graceful_timeout = 10
# nginx keeps its upstream connections open (keepalive 16): keep them a little longer than that side.
keepalive = 75

# nginx already refused oversized or slow requests; these are gunicorn's own limits, kept at defaults.
limit_request_line = 4094
limit_request_fields = 100

accesslog = "-"  # to stdout: journald under systemd
# Paths without their query string (%(U)s, not %(r)s): the page-action stream of an anonymous caller carries
# its token there.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(f)s" "%(a)s"'
errorlog = "-"
capture_output = True


def _request_threads() -> set[int]:
    """The threads of this worker that are inside a request (in gunicorn's gthread ``handle``)."""
    busy = set()
    for ident, frame in sys._current_frames().items():
        while frame is not None:
            if frame.f_code.co_name == "handle" and frame.f_code.co_filename.endswith("gthread.py"):
                busy.add(ident)
                break
            frame = frame.f_back
    return busy


def _unwind_request_threads() -> None:
    """Raise SystemExit in the worker's request threads and give them a moment to unwind.

    gunicorn kills a worker it gives up on with SIGABRT, and quits at once on SIGINT/SIGQUIT. A sync worker
    then dies with SystemExit raised inside the handler, so a webhook handler releases its delivery claim
    (HMS's retry is handled at once); a gthread worker would die with its request threads frozen, their
    claims held until they expire. This gives gthread the same, well-defined end. A thread blocked in C
    (a socket read) gets the exception when that call returns.
    """
    for ident in _request_threads():
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(SystemExit))
    deadline = time.monotonic() + 2.0
    while _request_threads() and time.monotonic() < deadline:
        time.sleep(0.01)


def worker_abort(worker: Any) -> None:
    _unwind_request_threads()


def worker_int(worker: Any) -> None:
    _unwind_request_threads()
