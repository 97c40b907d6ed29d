"""The site the deployment test runs under gunicorn: the app code docs/deployment.md shows (ProxyFix with
the settings deploy/nginx.conf matches), plus what the test needs: visitors named by a header, and a slow
webhook handler that records when it starts and finishes."""

from __future__ import annotations

import os
import time

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_hms_webcall import HMSWebCall, PageActionCall
from flask_hms_webcall.events import Event

app = Flask(__name__)
app.config.update(
    SECRET_KEY="deploy-test",
    HMS_API_KEY="fl_live_deploy_SECRET_4d5e6f",
    HMS_ASSISTANT_ID="17a0cb75-fa09-4bdd-9a44-92a70d829c88",
    HMS_WEBHOOK_SECRET=os.environ["DEPLOY_TEST_WEBHOOK_SECRET"],
    HMS_API_BASE_URL=os.environ["DEPLOY_TEST_HMS_URL"],
    HMS_STORAGE_URI=os.environ["DEPLOY_TEST_REDIS_URL"],
    HMS_REQUEST_TIMEOUT=float(os.environ["DEPLOY_TEST_REQUEST_TIMEOUT"]),
    HMS_MAX_CONCURRENT_CALLS=int(os.environ["DEPLOY_TEST_ORG_LIMIT"]),
    HMS_RATE_LIMIT="1000 per minute",
)
# One proxy in front (nginx sets X-Forwarded-For and X-Forwarded-Proto): trust exactly one hop of each.
app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
webcall = HMSWebCall(app)
EVENTS = os.environ["DEPLOY_TEST_EVENTS"]
SLOW_CALL_ID = os.environ["DEPLOY_TEST_SLOW_CALL_ID"]


@webcall.identity_loader
def visitor() -> str | None:
    return request.headers.get("X-Test-Visitor")


@webcall.on()
def record(event: Event) -> None:
    if event.call_id != SLOW_CALL_ID:
        return
    with open(EVENTS, "a") as out:
        out.write(f"start {os.getpid()}\n")
    for _ in range(60):  # three seconds of work, in small steps as real work (queries, requests) would be
        time.sleep(0.05)
    with open(EVENTS, "a") as out:
        out.write("done\n")


@webcall.page_action("show_order")
def show_order(call: PageActionCall) -> tuple[str, dict[str, str]]:
    return "Shown.", {"order_id": str(call.arguments.get("order_id"))}
