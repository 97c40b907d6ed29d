"""The README's integration example, copied verbatim into a brand-new app: it creates a call against a
stubbed HMS and its handler receives a signed end-of-call-report."""

from __future__ import annotations

import importlib.util
import json
import logging
import re
import sys
from pathlib import Path

import pytest
import responses

from flask_hms_webcall.cli import signed_headers

ROOT = Path(__file__).resolve().parent.parent

# Keep identical to the example in README.md and docs/quickstart.md (test_the_readme_shows_this_example and
# tests/test_docs_snippets.py check both).
EXAMPLE = """\
from flask import Flask, session
from flask_hms_webcall import HMSWebCall

app = Flask(__name__)
app.config.from_prefixed_env()  # FLASK_SECRET_KEY, FLASK_HMS_API_KEY, FLASK_HMS_ASSISTANT_ID, ...
webcall = HMSWebCall(app)

@webcall.identity_loader
def current_user():
    return session.get("user_id")  # None: an anonymous visitor, limited by IP address

@webcall.on("end-of-call-report")
def save_report(event):
    print("call", event.call_id, "by", event.metadata.get("user_id"), "-", event.summary)

@app.get("/")
def home():
    return '<h1>My shop</h1><script src="/hms/widget.js" defer></script>'
"""

API_KEY = "fl_live_readme_SECRET_42"
ASSISTANT_ID = "17a0cb75-fa09-4bdd-9a44-92a70d829c88"
WEBHOOK_SECRET = "whsec_readme"
HMS_URL = "https://assistant-api.hmsovereign.com/v1/web-calls"


@pytest.fixture
def example_app(tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.WARNING, logger="flask_hms_webcall")
    monkeypatch.setenv("FLASK_SECRET_KEY", "readme-session-key")
    monkeypatch.setenv("FLASK_HMS_API_KEY", API_KEY)
    monkeypatch.setenv("FLASK_HMS_ASSISTANT_ID", ASSISTANT_ID)
    monkeypatch.setenv("FLASK_HMS_WEBHOOK_SECRET", WEBHOOK_SECRET)
    path = tmp_path / "shop.py"
    path.write_text(EXAMPLE)
    spec = importlib.util.spec_from_file_location("readme_shop", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "readme_shop", module)
    spec.loader.exec_module(module)
    return module.app


def test_the_readme_example_creates_a_call_and_receives_its_report(example_app, capsys, caplog):
    client = example_app.test_client()
    page = client.get("/")
    assert '<script src="/hms/widget.js" defer></script>' in page.get_data(as_text=True)
    widget = client.get("/hms/widget.js")
    assert widget.status_code in (200, 503)  # 503 only in a checkout where `make widget` never ran
    assert widget.mimetype == "text/javascript"

    with client.session_transaction() as session:
        session["user_id"] = "alice"

    with responses.RequestsMock() as hms:
        hms.post(
            HMS_URL,
            json={
                "success": True,
                "call_id": "3f2a1b4c-5d6e-7f8a-9b0c-1d2e3f4a5b6c",
                "room_name": "web-3f2a1b4c",
                "token": "jwt-for-the-browser",
                "server_url": "wss://rtc.hmsovereign.com",
            },
        )
        # What the widget sends, from the page the example serves.
        created = client.post("/hms/web-calls", json={}, headers={"Origin": "http://localhost"})
        sent = json.loads(hms.calls[0].request.body)
        assert hms.calls[0].request.headers["Authorization"] == f"Bearer {API_KEY}"

    assert created.status_code == 201
    assert created.json["token"] == "jwt-for-the-browser"
    assert created.json["server_url"] == "wss://rtc.hmsovereign.com"
    assert API_KEY not in created.get_data(as_text=True)
    assert sent == {"assistant_id": ASSISTANT_ID, "assistant_override": {"metadata": {"user_id": "alice"}}}
    # Started (the fixture) and called on this machine, as the README says: nothing to warn about.
    assert [r.getMessage() for when in ("setup", "call") for r in caplog.get_records(when)] == []

    # HMS reports the end of the call, echoing the metadata the call was created with.
    report = {
        "message": {
            "type": "end-of-call-report",
            "call": {"id": created.json["call_id"], "type": "web_call", "status": "ended"},
            "assistant": {"metadata": sent["assistant_override"]["metadata"]},
            "endedReason": "user_hangup",
            "durationSeconds": 47,
            "summary": "The user asked about pricing.",
            "transcript": ["Hi", "Bye"],
        }
    }
    body = json.dumps(report).encode()
    headers = signed_headers(WEBHOOK_SECRET, "end-of-call-report", body)
    delivered = example_app.test_client().post("/hms/webhooks", data=body, headers=headers)
    assert delivered.status_code == 200
    printed = capsys.readouterr().out
    assert printed.strip() == (
        "call 3f2a1b4c-5d6e-7f8a-9b0c-1d2e3f4a5b6c by alice - The user asked about pricing."
    )

    # The same report, unsigned, reaches no handler.
    forged = example_app.test_client().post(
        "/hms/webhooks", data=body, headers={"X-Webhook-Timestamp": headers["X-Webhook-Timestamp"]}
    )
    assert forged.status_code == 401
    assert capsys.readouterr().out == ""


def _code_blocks(markdown: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown, flags=re.DOTALL)


def test_the_readme_shows_this_example():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    normalized = [block.rstrip() + "\n" for block in _code_blocks(readme)]
    assert EXAMPLE in normalized, "README.md no longer shows the example this test runs; update one of them"
