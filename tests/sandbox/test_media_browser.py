"""The real livekit-client in real Chromium, in a sandbox room: audio, transcripts, every way a call ends.

The page (``livekit_room.html``) loads livekit-client's UMD build from ``widget/node_modules`` off a small
HTTP server of this module, on another port than the sandbox (as a site's page would be). The sandbox runs
as its own process with ``--loopback-only``; Chromium's fake microphone beeps, which the sandbox hears.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from flask_hms_webcall.signature import verify
from tests.conftest import ROOT, free_port, require

pytestmark = pytest.mark.browser

PAGE = Path(__file__).with_name("livekit_room.html")
LIVEKIT_UMD = ROOT / "widget" / "node_modules" / "livekit-client" / "dist" / "livekit-client.umd.js"
SECRET = "whsec_media_browser_test"
ROOM_DELETED = 5
AGENT_KIND = 4
WAIT_MS = 45_000  # generous: two loaded cores run Chromium, the sandbox and the test at once
SPEECH = re.compile(r"\[\d+\.\d s of speech\]")


@pytest.fixture(scope="module")
def page_url() -> Iterator[str]:
    require(LIVEKIT_UMD.exists(), f"{LIVEKIT_UMD} is missing (run npm ci in widget/)")
    files = {"/": (PAGE, "text/html"), "/livekit-client.umd.js": (LIVEKIT_UMD, "application/javascript")}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = files.get(self.path.split("?")[0])
            if found is None:
                self.send_error(404)
                return
            body = found[0].read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", found[1])
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class RoomPage:
    """The test page in a fresh browser context, and what livekit-client reported on it."""

    def __init__(self, browser: Any, url: str) -> None:
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.page.goto(url)

    def join(self, created: dict[str, Any], **room_options: Any) -> None:
        self.page.evaluate(
            "([u, t, o]) => joinRoom(u, t, o)", [created["server_url"], created["token"], room_options]
        )

    def wait(self, predicate: str, arg: Any = None, timeout: float = WAIT_MS) -> Any:
        return self.page.wait_for_function(predicate, arg=arg, timeout=timeout, polling=200).json_value()

    @property
    def lk(self) -> dict[str, Any]:
        return self.page.evaluate("window.lk")

    def events(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.lk["events"] if e["event"] == name]

    def wait_connected(self) -> dict[str, Any]:
        self.wait("window.lk.state === 'connected' || window.lk.error !== null")
        assert self.lk["error"] is None, self.lk["error"]
        return self.events("connected")[0]

    def wait_for_audio(self) -> int:
        return self.wait("window.lk.audioPackets > 0 && window.lk.audioPackets")

    def wait_for_stream(
        self, identity: str, *, final: bool = True, text: str | None = None
    ) -> dict[str, Any]:
        """The first ``lk.transcription`` stream from ``identity`` that is final (and has ``text``)."""
        return self.wait(
            """([identity, final, text]) => window.lk.streams.find((s) => s.identity === identity
                 && (s.attributes['lk.transcription_final'] === 'true') === final
                 && (text === null || s.text === text))""",
            [identity, final, text],
        )

    def wait_disconnected(self) -> int:
        return self.wait("window.lk.disconnectReason !== null && window.lk.disconnectReason")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def open_room(chromium, page_url) -> Iterator[Callable[[], RoomPage]]:
    pages: list[RoomPage] = []

    def open_() -> RoomPage:
        pages.append(RoomPage(chromium, page_url))
        return pages[-1]

    yield open_
    for page in pages:
        page.close()


def script(tmp_path: Path, lines: list[str], *, agent_hangup: bool) -> str:
    path = tmp_path / "script.json"
    path.write_text(json.dumps({"lines": lines, "agent_hangup": agent_hangup}))
    return str(path)


def start_call(sandbox: Any, first_message: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"assistant_id": sandbox.assistant_id}
    if first_message is not None:
        body["assistant_override"] = {"first_message": first_message}  # hybrid mode
    response = sandbox.create_call(body)
    assert response.status_code == 200, response.text
    return response.json()


def end_of_call_report(receiver: Any) -> dict[str, Any]:
    """The call's end-of-call-report, after checking it is signed with the assistant's secret."""
    deliveries = receiver.wait_for_event("end-of-call-report", timeout=WAIT_MS / 1000)
    [report] = [d for d in deliveries if d.event == "end-of-call-report"]
    verify(report.body, report.headers["X-Webhook-Signature"], report.headers["X-Webhook-Timestamp"], SECRET)
    return report.json["message"]


def test_a_call_runs_until_max_duration(sandbox_factory, webhook_receiver, open_room, tmp_path):
    # --no-speech: the fallback without the speech packages (tones, and an ear that only detects speech).
    sandbox = sandbox_factory(
        "--no-speech",
        "--max-duration",
        "12",
        "--webhook-url",
        webhook_receiver.url,
        "--webhook-secret",
        SECRET,
        "--script",
        script(
            tmp_path,
            ["I have a lot to say, so I will keep talking for quite a while now."] * 3,
            agent_hangup=False,
        ),
    )
    created = start_call(sandbox)
    first_message = sandbox.call(created["call_id"])["assistant"]["first_message"]
    room = open_room()
    room.join(created)
    connected = room.wait_connected()

    me = connected["identity"]
    [agent] = connected["remotes"]
    assert connected["serverVersion"]
    assert agent["kind"] == AGENT_KIND and agent["identity"] != me
    assert "lk.agent.state" in agent["attributes"]
    room.page.evaluate("room.localParticipant.setMicrophoneEnabled(true)")

    assert room.wait_for_audio() > 0
    greeting = room.wait_for_stream(agent["identity"], text=first_message)
    assert greeting["topic"] == "lk.transcription"
    assert len(greeting["deltas"]) > 1  # word by word, as it is spoken
    assert greeting["attributes"]["lk.segment_id"].startswith("SG_")
    [subscribed] = room.events("trackSubscribed")
    assert greeting["attributes"]["lk.transcribed_track_id"] == subscribed["trackSid"]

    # The fake microphone's beeps are heard as speech and transcribed for the visitor's own identity.
    heard = room.wait_for_stream(me)
    assert SPEECH.fullmatch(heard["text"])
    interim = room.wait(
        """(segment) => window.lk.streams.find((s) => s.attributes['lk.segment_id'] === segment
             && s.attributes['lk.transcription_final'] === 'false')""",
        heard["attributes"]["lk.segment_id"],
    )
    assert interim["identity"] == me and SPEECH.fullmatch(interim["text"].replace("…", ""))

    assert room.wait_disconnected() == ROOM_DELETED
    assert room.events("participantDisconnected") == []  # the room closed; the assistant did not hang up
    report = end_of_call_report(webhook_receiver)
    assert report["call"]["id"] == created["call_id"]
    assert report["endedReason"] == "max_duration"
    assert report["messages"][0] == {"role": "assistant", "content": first_message}
    assert {"role": "user", "content": heard["text"]} in report["messages"]
    assert sandbox.call(created["call_id"])["ended_reason"] == "max_duration"


def test_the_assistant_hangs_up_when_its_script_is_done(
    sandbox_factory, webhook_receiver, open_room, tmp_path
):
    sandbox = sandbox_factory(
        "--no-speech",  # the ear reports the beeps' duration (speech recognition: test_sandbox_speech.py)
        "--webhook-url",
        webhook_receiver.url,
        "--webhook-secret",
        SECRET,
        "--script",
        script(tmp_path, ["Thanks for calling. Goodbye!"], agent_hangup=True),
    )
    created = start_call(sandbox, first_message="Hi, what can I do for you?")
    room = open_room()
    room.join(created)
    connected = room.wait_connected()
    [agent] = connected["remotes"]
    room.page.evaluate("room.localParticipant.setMicrophoneEnabled(true)")

    goodbye = room.wait_for_stream(agent["identity"], text="Thanks for calling. Goodbye!")
    assert goodbye["attributes"]["lk.transcription_final"] == "true"
    assert room.wait_disconnected() == ROOM_DELETED
    # The assistant leaves first, then the room closes: the widget can tell "assistant hung up".
    names = [
        e["event"] for e in room.lk["events"] if e["event"] in ("participantDisconnected", "disconnected")
    ]
    assert names == ["participantDisconnected", "disconnected"]
    assert room.events("participantDisconnected")[0]["identity"] == agent["identity"]
    states = [
        e["changed"]["lk.agent.state"] for e in room.events("attributes") if "lk.agent.state" in e["changed"]
    ]
    assert {"speaking", "listening", "thinking"} <= set(states)
    # The server's active-speaker updates follow the assistant's speaking, on and off again.
    speakers = [e["identities"] for e in room.events("speakers")]
    assert [agent["identity"]] in speakers and speakers[-1] == [], speakers

    report = end_of_call_report(webhook_receiver)
    assert report["endedReason"] == "agent_hangup"
    roles = [m["role"] for m in report["messages"]]
    assert roles == ["assistant", "user", "assistant"]
    assert report["messages"][0]["content"] == "Hi, what can I do for you?"  # the call's override
    assert SPEECH.fullmatch(report["messages"][1]["content"])
    assert report["messages"][2]["content"] == "Thanks for calling. Goodbye!"


def test_the_visitor_hangs_up(sandbox_factory, webhook_receiver, open_room):
    sandbox = sandbox_factory("--webhook-url", webhook_receiver.url, "--webhook-secret", SECRET)
    first_message = "Hello there, you are talking to the sandbox."
    created = start_call(sandbox, first_message)
    room = open_room()
    room.join(created)
    connected = room.wait_connected()
    room.wait_for_stream(connected["remotes"][0]["identity"], text=first_message)

    room.page.evaluate("room.disconnect()")

    report = end_of_call_report(webhook_receiver)
    assert report["endedReason"] == "user_hangup"
    assert report["messages"][0] == {"role": "assistant", "content": first_message}
    assert sandbox.call(created["call_id"])["status"] == "ended"


@pytest.mark.parametrize(
    ("room_options", "join_delay"),
    [({}, "1"), ({"singlePeerConnection": False}, "0"), ({"singlePeerConnection": False}, "1")],
    ids=["v1-late-assistant", "v0", "v0-late-assistant"],
)
def test_the_assistant_is_heard_on_both_signalling_paths(
    sandbox_factory, open_room, room_options, join_delay
):
    sandbox = sandbox_factory("--agent-join-delay", join_delay)
    first_message = "Hello, I can hear you now."
    created = start_call(sandbox, first_message)
    room = open_room()
    room.join(created, **room_options)
    connected = room.wait_connected()
    if join_delay == "0":
        [agent] = connected["remotes"]
    else:
        # Not in the JoinResponse: livekit-client announces the assistant as a participant that arrived.
        agent = room.wait("window.lk.events.find((e) => e.event === 'participantConnected')")
    assert agent["kind"] == AGENT_KIND

    assert room.wait_for_audio() > 0
    greeting = room.wait_for_stream(agent["identity"], text=first_message)
    assert len(greeting["deltas"]) > 1


def test_a_refused_join_reaches_livekit_client_with_its_reason(sandbox, open_room):
    created = start_call(sandbox)
    room = open_room()
    room.join({**created, "token": created["token"][:-4] + "AAAA"})  # a forged signature
    error = room.wait("window.lk.error")
    assert "invalid token: could not verify" in error["message"]
    assert error["status"] == 401
