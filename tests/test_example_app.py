"""The example app: its pages, its sign-in, and a call going from POST /hms/web-calls to the Calls page.

Page-level behaviour runs in-process with Flask's test client; the whole flow runs ``python -m example_app``
as a real process with its in-process sandbox (the ``example_app_factory`` fixture).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid

import pytest
import requests
from markupsafe import escape

from example_app import create_app
from flask_hms_webcall.signature import signature_header
from tests.conftest import ROOT, free_port, require

SECRET = "whsec_example_app_tests"
STATIC = ROOT / "flask_hms_webcall" / "static"


# --- in-process: pages, sign-in, webhooks -------------------------------------------------------------


def offline_app(tmp_path, **config):
    """The example app in-process, with an HMS nobody answers at: these tests never create a call."""
    return create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path),
            "HMS_API_KEY": "sk_test_never_sent",
            "HMS_ASSISTANT_ID": "5a4db0c5-0000-4000-8000-000000000001",
            "HMS_API_BASE_URL": "http://127.0.0.1:9",
            "HMS_WEBHOOK_SECRET": SECRET,
            **config,
        }
    )


@pytest.fixture
def client(tmp_path):
    return offline_app(tmp_path).test_client()


@pytest.fixture
def ada(client):
    """A visitor signed in as "ada", the user_id of the calls the webhooks below report by default: the
    Calls page shows a visitor their own calls only."""
    _sign_in(client, "ada")
    return client


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, "the page has no sign-in form token"
    return match.group(1)


def _sign_in(client, name: str):
    token = _csrf(client.get("/").get_data(as_text=True))
    return client.post("/sign-in", data={"name": name, "csrf": token}, follow_redirects=True)


def _report(call_id: str, **fields) -> dict:
    message = {
        "type": "end-of-call-report",
        "call": {"id": call_id, "type": "web_call", "status": "ended"},
        "assistant": {"metadata": {"user_id": fields.pop("user_id", "ada")}},
        "end_reason": "user_hangup",
        "duration_seconds": 47,
        "summary": "The caller asked about opening hours.",
        "messages": [
            {"role": "assistant", "content": "Hello! How can I help?"},
            {"role": "user", "content": "When are you open?"},
        ],
    }
    message.update(fields)
    return {"message": message}


def _status(call_id: str, status: str, user_id: str = "ada") -> dict:
    return {
        "message": {
            "type": "status-update",
            "status": status,
            "call": {"id": call_id, "type": "web_call", "status": status},
            "assistant": {"metadata": {"user_id": user_id}},
        }
    }


def _deliver(client, payload: dict, *, secret: str = SECRET, timestamp: int | None = None):
    body = json.dumps(payload).encode()
    ts = int(time.time()) if timestamp is None else timestamp
    return client.post(
        "/hms/webhooks",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Webhook-Timestamp": str(ts),
            "X-Webhook-Signature": signature_header(secret, ts, body),
            "X-Webhook-Event": payload["message"]["type"],
        },
    )


def _widget_tag(page: str) -> str:
    tags = re.findall(r'<script src="/hms/widget\.js"[^>]*></script>', page)
    assert len(tags) == 1, tags
    return tags[0]


def test_landing_page_has_the_widget_script_and_the_sign_in_box(client):
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # One widget on the page: inline in the hero, so the script tag's floating launcher is switched off.
    assert 'data-launcher="false"' in _widget_tag(page)
    assert page.count("<hms-webcall") == 1
    assert re.search(r'<form method="post" action="/sign-in"[^>]*>', page)
    assert re.search(r'<input id="name" name="name" type="text"', page)
    assert "Not signed in" in page


def test_the_widget_script_and_its_call_chunk_are_served(client):
    require((STATIC / "widget.js").is_file(), "the widget is not built: run `make widget`")
    widget = client.get("/hms/widget.js")
    # The built loader, not the "not built" stub (a 503 that only logs a hint).
    assert widget.status_code == 200
    assert "javascript" in widget.headers["Content-Type"]
    script = widget.get_data(as_text=True)
    assert "hms-webcall" in script and "is not built" not in script
    # The call chunk the loader names is served too, so a click can load it.
    chunk = re.search(r"call-[A-Z2-7]{8}\.js", script)
    assert chunk, "the loader names no call chunk"
    answer = client.get(f"/hms/static/{chunk.group(0)}")
    assert answer.status_code == 200 and "javascript" in answer.headers["Content-Type"]


def test_other_pages_get_the_floating_launcher(client):
    page = client.get("/calls").get_data(as_text=True)
    assert "data-launcher" not in _widget_tag(page)
    assert "<hms-webcall" not in page


def test_sign_in_shows_the_name_and_sign_out_forgets_it(client):
    page = _sign_in(client, "  Ada   Lovelace ").get_data(as_text=True)
    assert "Signed in as <strong" in page
    assert "Ada Lovelace</strong>" in page
    assert '<code>metadata.user_id = "Ada Lovelace"</code>' in page

    token = _csrf(page)
    page = client.post("/sign-out", data={"csrf": token}, follow_redirects=True).get_data(as_text=True)
    assert "Not signed in" in page
    assert "Ada Lovelace" not in page


@pytest.mark.parametrize("name", ["", "   ", "x" * 41, "bad\x00name", "tab\u200bbed"])
def test_sign_in_refuses_unusable_names(client, name):
    page = _sign_in(client, name).get_data(as_text=True)
    assert "Type a name of 1 to 40 characters." in page
    assert "Not signed in" in page


def test_sign_in_and_out_without_the_form_token_change_nothing(client):
    # What another site's form posting here would look like: no token from one of our pages.
    page = client.post("/sign-in", data={"name": "Mallory"}, follow_redirects=True).get_data(as_text=True)
    assert "The form had expired, so nothing changed." in page
    assert "Not signed in" in page and "Mallory" not in page

    _sign_in(client, "Ada")
    page = client.post("/sign-out", data={"csrf": "forged"}, follow_redirects=True).get_data(as_text=True)
    assert "The form had expired, so nothing changed." in page
    assert 'Signed in as <strong class="user-name">Ada</strong>' in page


def test_calls_page_shows_a_reported_call(ada):
    client = ada
    assert "No calls yet." in client.get("/calls").get_data(as_text=True)
    call_id = str(uuid.uuid4())
    assert _deliver(client, _status(call_id, "in-progress")).status_code == 200
    page = client.get("/calls").get_data(as_text=True)
    assert call_id in page
    assert "in progress" in page
    assert "The report arrives when the call ends." in page

    assert _deliver(client, _report(call_id)).status_code == 200
    page = client.get("/calls").get_data(as_text=True)
    assert f'data-call-id="{call_id}"' in page
    assert "The caller asked about opening hours." in page
    assert "user hangup" in page
    assert "0:47" in page
    assert "When are you open?" in page and "Hello! How can I help?" in page


def test_calls_page_shows_todays_minutes_against_the_caps(tmp_path):
    client = offline_app(tmp_path, HMS_DAILY_MINUTES=30, HMS_ANONYMOUS_DAILY_MINUTES=10).test_client()

    def usage() -> list[str]:
        page = client.get("/calls").get_data(as_text=True)
        section = page[page.index('class="card usage"') : page.index("</section>")]
        return [
            " ".join(re.sub(r"<[^>]+>", " ", dd).split()) for dd in re.findall(r"<dd>(.*?)</dd>", section)
        ]

    assert usage() == ["0.0 min of 30", "0.0 min of 10"]
    _deliver(client, _report(str(uuid.uuid4()), duration_seconds=90))
    anonymous = _report(str(uuid.uuid4()), duration_seconds=30)
    anonymous["message"]["assistant"]["metadata"] = {}
    _deliver(client, anonymous)
    assert usage() == ["2.0 min of 30", "0.5 min of 10"]
    # A report delivered again counts once.
    _deliver(client, anonymous)
    assert usage() == ["2.0 min of 30", "0.5 min of 10"]


def test_calls_page_shows_the_callers_feedback(ada):
    client = ada
    call_id = str(uuid.uuid4())
    _deliver(client, _report(call_id))
    state = client.application.extensions["hms_webcall"]
    with client.application.app_context():  # as the extension's feedback route calls it
        for handler in state.hooks.feedback_handlers:
            handler(call_id, "down", "Too <b>slow</b>", "ada")
    page = client.get("/calls").get_data(as_text=True)
    row = page[page.index(f'data-call-id="{call_id}"') :]
    assert "Not helpful" in row and "Too &lt;b&gt;slow&lt;/b&gt;" in row


def _rated_report(client, user_id: str | None, said: str, comment: str) -> str:
    """A reported call of ``user_id`` (``None``: anonymous) in which the caller said ``said``, rated with
    ``comment``; its call id."""
    call_id = str(uuid.uuid4())
    report = _report(call_id, messages=[{"role": "user", "content": said}], summary=f"Summary of {said}")
    report["message"]["assistant"]["metadata"] = {} if user_id is None else {"user_id": user_id}
    assert _deliver(client, report).status_code == 200
    with client.application.app_context():  # as the extension's feedback route calls it
        for handler in client.application.extensions["hms_webcall"].hooks.feedback_handlers:
            handler(call_id, "down", comment, user_id)
    return call_id


def test_the_calls_page_shows_each_visitor_their_own_calls_only(tmp_path):
    app = offline_app(tmp_path)
    ada, grace, stranger = app.test_client(), app.test_client(), app.test_client()
    _sign_in(ada, "ada")
    _sign_in(grace, "grace")
    # What each caller said and commented: none of it may reach another visitor's page.
    private = {
        "ada": ("card 4111", "too slow ada"),
        "grace": ("1 Main St", "rude"),
        None: ("555-0100", "meh"),
    }
    calls = {who: _rated_report(ada, who, said, comment) for who, (said, comment) in private.items()}

    def shown(client) -> set[str | None]:
        page = client.get("/calls").get_data(as_text=True)
        visible = {who for who, call_id in calls.items() if call_id in page}
        for who in set(calls) - visible:
            assert not any(text in page for text in private[who]), who
        for who in visible:
            assert all(text in page for text in private[who]), who
        return visible

    assert shown(ada) == {"ada"}
    page = ada.get("/calls").get_data(as_text=True)
    assert "Only your calls are listed" in page and "signed in as <strong>ada</strong>" in page
    assert shown(grace) == {"grace"}
    # Not signed in, and this browser made no call: nothing, not even someone else's anonymous call.
    assert shown(stranger) == set()
    page = stranger.get("/calls").get_data(as_text=True)
    assert "No calls yet." in page and "Only your calls are listed" in page


def test_an_anonymous_visitor_sees_the_calls_their_browser_made(tmp_path, hms):
    # HMS stubbed at its real address: this test creates calls through the extension.
    app = offline_app(
        tmp_path, HMS_API_BASE_URL="https://assistant-api.hmsovereign.com", HMS_MAX_CALLS_PER_USER=5
    )
    visitor, other = app.test_client(), app.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    mine = visitor.post("/hms/web-calls", json={}).json["call_id"]
    theirs = other.post("/hms/web-calls", json={}).json["call_id"]
    for call_id in (mine, theirs):
        report = _report(call_id)
        report["message"]["assistant"]["metadata"] = {}  # anonymous: no user_id
        assert _deliver(visitor, report).status_code == 200
    page = visitor.get("/calls").get_data(as_text=True)
    assert f'data-call-id="{mine}"' in page and theirs not in page
    assert "those this browser made without signing in" in page
    page = other.get("/calls").get_data(as_text=True)
    assert f'data-call-id="{theirs}"' in page and mine not in page
    # Signed in, the visitor sees the calls made under their name: the anonymous ones are not those.
    _sign_in(visitor, "ada")
    assert mine not in visitor.get("/calls").get_data(as_text=True)


def _tool_call(call_id: str, arguments: dict) -> dict:
    return {
        "message": {
            "type": "tool-calls",
            "call": {"id": call_id, "type": "web_call", "status": "in-progress"},
            "assistant": {"metadata": {}},
            "tool_call_list": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "lookup_order", "arguments": arguments},
                }
            ],
        }
    }


def test_lookup_order_answers_mid_call_and_the_calls_page_lists_it(ada):
    client = ada
    call_id = str(uuid.uuid4())
    assert _deliver(client, _status(call_id, "in-progress")).status_code == 200

    found = _deliver(client, _tool_call(call_id, {"order_id": "123"}))
    [result] = found.json["results"]
    assert result["tool_call_id"] == "call_1"
    assert json.loads(result["result"]) == {"order_id": "123", "status": "shipped, and arrives tomorrow"}
    missing = _deliver(client, _tool_call(call_id, {"order_id": "999"})).json["results"][0]["result"]
    assert missing == "I could not find order 999. Our sample orders are 123, 456 and 789."

    page = client.get("/calls").get_data(as_text=True)
    tools = re.findall(r'<li class="tool-call">(.*?)</li>', page, re.S)
    assert len(tools) == 2
    assert "lookup_order" in tools[0] and escape('{"order_id": "123"}') in tools[0]
    assert "shipped, and arrives tomorrow" in tools[0]
    assert "I could not find order 999." in tools[1]


def test_the_home_page_says_what_to_ask(client):
    page = client.get("/").get_data(as_text=True)
    hint = re.search(r'<div class="ask" id="what-to-ask">(.*?)</div>', page, re.S).group(1)
    assert "What is the status of order one two three?" in hint
    assert "123, 456, 789" in hint and "Goodbye" in hint


def test_a_late_status_update_does_not_undo_the_report(ada):
    client = ada
    call_id = str(uuid.uuid4())
    assert _deliver(client, _report(call_id)).status_code == 200
    assert _deliver(client, _status(call_id, "in-progress")).status_code == 200
    page = client.get("/calls").get_data(as_text=True)
    assert ">ended</span>" in page
    assert "in progress" not in page
    assert "The caller asked about opening hours." in page


def test_calls_page_escapes_hostile_strings(client):
    hostile_name = '<script>alert("name")</script>'
    page = _sign_in(client, hostile_name).get_data(as_text=True)
    assert hostile_name not in page
    assert escape(hostile_name) in page

    call_id = str(uuid.uuid4())
    payload = _report(
        call_id,
        user_id='<img src=x onerror="alert(1)">',
        summary="</p><script>alert('summary')</script>",
        end_reason='"><svg onload=alert(2)>',
        messages=[{"role": "<b>user</b>", "content": "<iframe src=javascript:alert(3)>"}],
    )
    assert _deliver(client, payload).status_code == 200
    page = _sign_in(client, '<img src=x onerror="alert(1)">').get_data(as_text=True)
    assert "<img src=x" not in page
    page = client.get("/calls").get_data(as_text=True)
    assert call_id in page
    for raw in ("<img src=x", "<script>alert(", "<svg onload", "<iframe", "<b>user</b>"):
        assert raw not in page, raw
    assert "&lt;/p&gt;&lt;script&gt;alert(&#39;summary&#39;)&lt;/script&gt;" in page
    assert "&lt;iframe src=javascript:alert(3)&gt;" in page


def test_webhooks_that_fail_verification_change_nothing(ada):
    client = ada
    before = client.get("/calls").get_data(as_text=True)
    call_id = str(uuid.uuid4())
    payload = _report(call_id, summary="forged summary")

    assert _deliver(client, payload, secret="not-the-secret").status_code == 401
    assert _deliver(client, payload, timestamp=int(time.time()) - 3600).status_code == 401
    unsigned = client.post("/hms/webhooks", json=payload)
    assert unsigned.status_code == 401
    assert client.get("/calls").get_data(as_text=True) == before

    # The same delivery, signed with the right secret, does land: the refusals above were the signature's.
    assert _deliver(client, payload).status_code == 200
    assert "forged summary" in client.get("/calls").get_data(as_text=True)


# --- the real process: python -m example_app with its sandbox -----------------------------------------


def _session_signed_in(app, name: str) -> requests.Session:
    session = requests.Session()
    token = _csrf(session.get(f"{app.url}/", timeout=10).text)
    response = session.post(f"{app.url}/sign-in", data={"name": name, "csrf": token}, timeout=10)
    assert response.status_code == 200
    assert f'Signed in as <strong class="user-name">{name}</strong>' in response.text
    return session


def _create_call(
    app, session: requests.Session, origin: str | None = None, prefix: str = "/hms"
) -> requests.Response:
    return session.post(
        f"{app.url}{prefix}/web-calls",
        json={},
        headers={"Origin": origin or app.url},
        timeout=30,
    )


def _sandbox_call(app, call_id: str) -> dict:
    calls = {c["call_id"]: c for c in app.sandbox_calls()}
    assert call_id in calls, f"the sandbox has no call {call_id}"
    return calls[call_id]


def _talk_and_hang_up(app, call_id: str) -> None:
    """Play the browser through the sandbox's control routes: join the room, say something, hang up."""
    app.sandbox_control("POST", f"/_sandbox/calls/{call_id}/join")
    said = [
        {"role": "user", "content": "When are you open on Sundays?"},
        {"role": "assistant", "content": "We're closed on Sundays, I'm afraid."},
    ]
    app.sandbox_control(
        "POST", f"/_sandbox/calls/{call_id}/end", json={"reason": "user_hangup", "messages": said}
    )


def _calls_page_entry(page: str, call_id: str) -> str | None:
    """The HTML of one call's card on the Calls page (cards follow each other; the list is the only <ul>)."""
    start = page.find(f'<li class="card call" data-call-id="{call_id}">')
    if start < 0:
        return None
    ends = [i for i in (page.find('<li class="card call"', start + 1), page.find("</ul>", start)) if i >= 0]
    return page[start : min(ends)]


def _wait_for_calls_page(
    app, session: requests.Session, call_id: str, needle: str, timeout: float = 20.0
) -> str:
    """The call's card on the Calls page as ``session`` (its caller) sees it, once it shows ``needle``."""
    deadline = time.monotonic() + timeout
    while True:
        page = session.get(f"{app.url}/calls", timeout=10).text
        entry = _calls_page_entry(page, call_id)
        if entry is not None and needle in entry:
            return entry
        if time.monotonic() > deadline:
            raise AssertionError(
                f"call {call_id} never showed {needle!r} on the Calls page:\n{page}\n"
                f"--- app output ---\n{app.output()}"
            )
        time.sleep(0.2)


def test_the_signed_in_name_is_the_calls_user_and_its_limit(example_app_factory):
    app = example_app_factory()
    ada = _session_signed_in(app, "Ada")

    refused = _create_call(app, ada, origin="http://evil.example")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden_origin"
    # A DNS-rebinding page (its own name for this server, in Host and Origin): the demo names its hosts
    # (TRUSTED_HOSTS), so it is refused, and nothing warns that only the Host header decides.
    rebinding = requests.post(
        f"{app.url}/hms/web-calls",
        json={},
        headers={"Host": f"evil.example:{app.port}", "Origin": f"http://evil.example:{app.port}"},
        timeout=30,
    )
    assert rebinding.status_code == 400
    assert rebinding.json()["error"]["code"] == "invalid_request"

    first = _create_call(app, ada)
    assert first.status_code == 201, first.text
    call_id = first.json()["call_id"]
    assert _sandbox_call(app, call_id)["metadata"]["user_id"] == "Ada"

    # One call at a time per person: Ada is refused a second one, Grace (another name) is not.
    second = _create_call(app, ada)
    assert second.status_code == 429
    assert second.json()["error"]["code"] == "too_many_calls"
    grace = _session_signed_in(app, "Grace")
    other = _create_call(app, grace)
    assert other.status_code == 201, other.text
    assert _sandbox_call(app, other.json()["call_id"])["metadata"]["user_id"] == "Grace"

    # Without a name the call carries no user_id (the extension limits it by IP address instead).
    anonymous = _create_call(app, requests.Session())
    assert anonymous.status_code == 201, anonymous.text
    assert "user_id" not in _sandbox_call(app, anonymous.json()["call_id"])["metadata"]
    assert "DNS-rebinding" not in app.output()


def test_the_request_log_holds_no_anonymous_callers_token(example_app_factory):
    app = example_app_factory()
    created = _create_call(app, requests.Session())
    assert created.status_code == 201, created.text
    actions_url = created.json()["actions_url"]
    path, _, token = actions_url.partition("?token=")
    assert token
    with requests.get(f"{app.url}{actions_url}", stream=True, timeout=30) as stream:
        assert stream.status_code == 200
        next(stream.iter_content(chunk_size=None))  # the stream is open: its request was logged
    deadline = time.monotonic() + 10  # the app's output is read from its pipe a moment later
    while f"GET {path} " not in app.output() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert f"GET {path} " in app.output()
    assert token not in app.output()


def test_a_busy_port_is_told_plainly_and_nothing_claims_to_be_ready(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        env = {
            **os.environ,
            "EXAMPLE_APP_PORT": str(port),
            "EXAMPLE_APP_INSTANCE": str(tmp_path),
            "HMS_API_KEY": "",
        }
        done = subprocess.run(
            [sys.executable, "-m", "example_app"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "EXAMPLE_APP_PORT" in done.stderr
    assert "Example app ready" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_a_call_ends_up_on_the_calls_page_with_its_report(example_app_factory):
    app = example_app_factory()
    session = _session_signed_in(app, "Grace Hopper")
    created = _create_call(app, session)
    assert created.status_code == 201, created.text
    call_id = created.json()["call_id"]

    _talk_and_hang_up(app, call_id)
    entry = _wait_for_calls_page(app, session, call_id, "Transcript (")
    sandbox_call = _sandbox_call(app, call_id)
    assert {m["role"] for m in sandbox_call["transcript"]} == {"user", "assistant"}

    assert "Grace Hopper" in entry
    assert ">ended</span>" in entry
    assert "user hangup" in entry
    assert re.search(r"<dt>Duration</dt><dd>\d+:\d\d</dd>", entry)
    summary = re.search(r'<p class="summary">(.*?)</p>', entry, re.S)
    assert summary and summary.group(1).strip()
    for line in sandbox_call["transcript"]:
        assert escape(line["content"]) in entry
    assert "Sundays" in entry and "Caller</span>" in entry


def test_the_sandbox_reports_to_the_apps_own_url_prefix(example_app_factory):
    app = example_app_factory(env={"FLASK_HMS_URL_PREFIX": "/voice"})
    session = _session_signed_in(app, "Ada")
    created = _create_call(app, session, prefix="/voice")
    assert created.status_code == 201, created.text
    call_id = created.json()["call_id"]
    _talk_and_hang_up(app, call_id)
    assert "user hangup" in _wait_for_calls_page(app, session, call_id, "Transcript (")


@pytest.mark.browser
def test_the_calls_page_updates_itself_while_open(example_app_factory, chromium):
    app = example_app_factory()
    page = chromium.new_page()
    try:
        page.goto(f"{app.url}/calls")
        assert "No calls yet." in page.content()
        page.evaluate("window.stillTheSamePage = true")

        # Made by the page's own browser, as the widget does: an anonymous visitor sees this browser's calls.
        created = page.evaluate(
            """fetch('/hms/web-calls', {
                method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{}',
            }).then(async (r) => ({status: r.status, body: await r.json()}))"""
        )
        assert created["status"] == 201, created
        call_id = created["body"]["call_id"]
        _talk_and_hang_up(app, call_id)

        # The report (its transcript) shows up while the page stays open: swapped in, not reloaded.
        card = page.locator(f'[data-call-id="{call_id}"]')
        card.locator(".transcript").wait_for(timeout=20_000)
        assert "user hangup" in card.inner_text()
        assert page.evaluate("window.stillTheSamePage === true")
    finally:
        page.close()


def test_with_an_api_key_it_talks_to_that_hms_and_starts_no_sandbox(example_app_factory, sandbox_factory):
    # An HMS stand-in of its own (a separate sandbox process) plays "the real HMS" configured by env vars.
    port = free_port()
    secret = "whsec_outside_hms"
    hms = sandbox_factory(
        "--webhook-url", f"http://127.0.0.1:{port}/hms/webhooks", "--webhook-secret", secret
    )
    app = example_app_factory(
        env={
            "EXAMPLE_APP_PORT": str(port),
            "HMS_API_KEY": hms.api_key,
            "HMS_API_BASE_URL": hms.api_base_url,
            "HMS_ASSISTANT_ID": hms.assistant_id,
            "HMS_WEBHOOK_SECRET": secret,
        }
    )
    assert "Sandbox mode" not in requests.get(f"{app.url}/", timeout=10).text
    assert "offline sandbox" not in app.output()

    lin = _session_signed_in(app, "Lin")
    created = _create_call(app, lin)
    assert created.status_code == 201, created.text
    call_id = created.json()["call_id"]
    assert hms.call(call_id)["metadata"]["user_id"] == "Lin"

    hms.join(call_id)
    hms.end(call_id)
    entry = _wait_for_calls_page(app, lin, call_id, "Transcript (")
    assert "Lin" in entry and "user hangup" in entry
