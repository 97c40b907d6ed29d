"""What a sandbox run is configured with: the command-line flags, as one immutable value."""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from ..hms import MAX_CALL_DURATION, TOKEN_TTL, UNJOINED_ROOM_TTL

DEFAULT_API_KEY = "sk_sandbox_local"
DEFAULT_ASSISTANT_ID = "5a4db0c5-0000-4000-8000-000000000001"

# The limits of the Web Calls page. Tests shorten the durations; the defaults are the real values.
MAX_CONCURRENT_CALLS = 3
TOKEN_TTL_SECONDS = TOKEN_TTL
MAX_DURATION_SECONDS = MAX_CALL_DURATION
UNJOINED_ROOM_TTL_SECONDS = UNJOINED_ROOM_TTL
# LiveKit's default departure timeout; longer than the widget's 15 s reconnect limit, so a browser that
# comes back at the last moment still finds its call.
DEPARTURE_TIMEOUT_SECONDS = 20.0

DEFAULT_FIRST_MESSAGE = "Hello! This is the sandbox assistant. How can I help you today?"
DEFAULT_SCRIPT_LINES = (
    "I heard you. This is a sandbox, so I can't understand words, only that you spoke.",
    "Thanks! Everything works: your microphone reaches me and my voice reaches you.",
    "That's all from me for now. Goodbye!",
)


@dataclass(frozen=True)
class Script:
    """What the scripted assistant says after ``first_message``: one line per user turn."""

    lines: tuple[str, ...] = DEFAULT_SCRIPT_LINES
    agent_hangup: bool = True

    @classmethod
    def load(cls, path: str | Path) -> Script:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        lines = data.get("lines", list(DEFAULT_SCRIPT_LINES))
        if not isinstance(lines, list) or not all(isinstance(x, str) and x for x in lines):
            raise ValueError(f"{path}: 'lines' must be a list of non-empty strings")
        return cls(lines=tuple(lines), agent_hangup=bool(data.get("agent_hangup", True)))


@dataclass(frozen=True)
class SandboxConfig:
    host: str = "127.0.0.1"
    port: int = 7880
    api_key: str = DEFAULT_API_KEY
    # The default saved assistant, always present; --webhook-url/--webhook-secret are its webhook fields.
    assistant_id: str = DEFAULT_ASSISTANT_ID
    webhook_url: str | None = None
    webhook_secret: str | None = None
    # More saved assistants by id (from --assistants FILE): each a dict of assistant fields
    # (first_message, metadata, webhook_url, ...). An entry with the default id replaces the default.
    assistants: dict[str, dict[str, Any]] = field(default_factory=dict)
    credits_seconds: float | None = None  # None: unlimited balance
    max_concurrent_calls: int = MAX_CONCURRENT_CALLS
    token_ttl: float = TOKEN_TTL_SECONDS
    max_duration: float = MAX_DURATION_SECONDS
    unjoined_room_ttl: float = UNJOINED_ROOM_TTL_SECONDS
    # None: the assistant's rules answer (speech recognition needed; without it, the default Script).
    script: Script | None = None
    # False: tones and the energy detector even when the speech packages are installed (--no-speech).
    speech: bool = True
    # False: the visitor cannot interrupt the assistant (--no-interruptions); an assistant's own
    # speech_config.allow_interruptions wins over it.
    interruptions: bool = True
    # Seconds after the user joins before the assistant joins; None: it never joins (tests of the widget).
    agent_join_delay: float | None = 0.0
    # Seconds a call waits for a visitor whose connection dropped (no leave) to join again, as LiveKit keeps
    # a room; past it the call ends as user_hangup.
    departure_timeout: float = DEPARTURE_TIMEOUT_SECONDS
    # Bind ICE to 127.0.0.1 only (tests, with Chromium's --allow-loopback-in-peer-connection).
    loopback_only: bool = False
    webhook_retries: int = 3  # attempts after the first one, for a connection error or a non-2xx answer
    webhook_backoff: float = 0.5  # seconds before the first retry, doubled before each later one
    webhook_timeout: float = 10.0  # seconds per delivery attempt

    @property
    def _netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def api_base_url(self) -> str:
        return f"http://{self._netloc}"

    @property
    def server_url(self) -> str:
        return f"ws://{self._netloc}"


PROG = "python -m flask_hms_webcall.sandbox"
# Top-level modules of the [sandbox] extra's requirements (setup.cfg): without one of them, the fix is to
# install the extra, which --help and a start say in one line.
EXTRA_MODULES = ("aiohttp", "aiortc", "livekit", "jwt", "numpy")
INSTALL_EXTRA = "pip install 'flask-hms-webcall[sandbox]'"


def missing_extra_module() -> str | None:
    """The first requirement of the [sandbox] extra that cannot be imported here, found without importing
    any (``--help`` stays fast), or ``None``."""
    return next((name for name in EXTRA_MODULES if importlib.util.find_spec(name) is None), None)


class _Parser(argparse.ArgumentParser):
    # config_from_args is also called in-process (the example app), where a bad flag must be an exception
    # the caller can report, not a SystemExit.
    def error(self, message: str) -> NoReturn:
        raise ValueError(message)


def _seconds(minimum: float, *, inclusive: bool = True) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
        if not math.isfinite(value) or value < minimum or (not inclusive and value == minimum):
            relation = "at least" if inclusive else "more than"
            raise argparse.ArgumentTypeError(f"{text!r} must be {relation} {minimum:g}")
        return value

    return parse


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must not be negative")
    return value


def _port(text: str) -> int:
    value = _count(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port")
    return value


def _join_delay(text: str) -> float | None:
    return None if text == "never" else _seconds(0)(text)


def _api_key(text: str) -> str:
    if not text or any(c.isspace() for c in text):
        raise argparse.ArgumentTypeError("the API key must be non-empty and contain no whitespace")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description=(
            "Offline stand-in for HMS Sovereign web calls: the HMS API (POST /v1/web-calls, signed webhooks) "
            "and a LiveKit-compatible media server with a scripted assistant, on one port."
        ),
        epilog=_extra_note(),
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    add(
        "--port",
        type=_port,
        default=7880,
        help="port for both faces; 0 picks a free one (default: %(default)s)",
    )
    add("--api-key", type=_api_key, default=DEFAULT_API_KEY, help="the org API key (default: %(default)s)")
    add("--assistant-id", default=DEFAULT_ASSISTANT_ID, help="id of the default saved assistant")
    add(
        "--assistants",
        metavar="FILE",
        help="JSON file of more saved assistants: {id: {fields}} or [{id, ...}]",
    )
    add("--webhook-url", metavar="URL", help="webhook_url of the default saved assistant")
    add(
        "--webhook-secret",
        metavar="S",
        help="webhook_secret of the default saved assistant (signs deliveries)",
    )
    add(
        "--webhook-retries",
        type=_count,
        default=3,
        metavar="N",
        help="retries of a failed delivery (default: 3)",
    )
    add(
        "--webhook-backoff",
        type=_seconds(0),
        default=0.5,
        metavar="S",
        help="first retry delay, then doubled",
    )
    add("--webhook-timeout", type=_seconds(0, inclusive=False), default=10.0, metavar="S", help="per attempt")
    add(
        "--credits-seconds",
        type=_seconds(0),
        metavar="N",
        help="credit balance in call seconds (default: unlimited)",
    )
    add(
        "--max-duration",
        type=_seconds(0, inclusive=False),
        default=MAX_DURATION_SECONDS,
        metavar="S",
        help="longest a call lasts once joined, then it ends as max_duration (default: %(default)g)",
    )
    add("--token-ttl", type=_seconds(1), default=TOKEN_TTL_SECONDS, metavar="S", help="join token lifetime")
    add(
        "--unjoined-room-ttl",
        type=_seconds(0, inclusive=False),
        default=UNJOINED_ROOM_TTL_SECONDS,
        metavar="S",
        help="how long a new call's room waits for the browser to join before it is deleted and the call "
        "ends in an error (default: %(default)g)",
    )
    add(
        "--script",
        metavar="FILE",
        help='JSON {"lines": [...], "agent_hangup": true}: lines said in turn instead of the rules',
    )
    add(
        "--no-speech",
        dest="speech",
        action="store_false",
        help="speak in tones and only detect speech, even with the speech packages installed",
    )
    add(
        "--no-interruptions",
        dest="interruptions",
        action="store_false",
        help="the visitor cannot interrupt the assistant by speaking over it, unless the assistant's "
        "speech_config.allow_interruptions says otherwise",
    )
    add("--agent-join-delay", type=_join_delay, default=0.0, metavar="S|never", help="assistant join delay")
    add(
        "--departure-timeout",
        type=_seconds(0),
        default=DEPARTURE_TIMEOUT_SECONDS,
        metavar="S",
        help="how long a call waits for a dropped browser to rejoin (default: %(default)g)",
    )
    add("--loopback-only", action="store_true", help="offer only 127.0.0.1 ICE candidates (tests)")
    return parser


def _extra_note() -> str:
    note = (
        f"Needs the [sandbox] extra: {INSTALL_EXTRA}. The [sandbox-speech] extra adds an assistant that "
        "speaks words and understands a few phrases (without it, tones and a script)."
    )
    missing = missing_extra_module()
    if missing is not None:
        note += f" It is not installed here ({missing} is missing): the sandbox will not start."
    return note


def config_from_args(argv: Sequence[str] | None = None) -> SandboxConfig:
    """Parse the sandbox's command-line flags into a config; raise ``ValueError`` saying what is wrong."""
    from .assistants import is_http_url, load_assistants_file, normalise_id

    args = build_parser().parse_args(argv)
    assistant_id = normalise_id(args.assistant_id)
    if assistant_id is None:
        raise ValueError(f"argument --assistant-id: {args.assistant_id!r} is not a UUID")
    if args.webhook_url is not None and not is_http_url(args.webhook_url):
        raise ValueError(f"argument --webhook-url: {args.webhook_url!r} is not an http(s) URL")
    script = None
    if args.script:
        try:
            script = Script.load(args.script)
        except (OSError, UnicodeDecodeError, ValueError, AttributeError) as exc:
            raise ValueError(f"argument --script: {exc}") from None
    assistants = load_assistants_file(args.assistants) if args.assistants else {}
    return SandboxConfig(
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        assistant_id=assistant_id,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret or None,
        assistants=assistants,
        credits_seconds=args.credits_seconds,
        token_ttl=args.token_ttl,
        max_duration=args.max_duration,
        unjoined_room_ttl=args.unjoined_room_ttl,
        script=script,
        speech=args.speech,
        interruptions=args.interruptions,
        agent_join_delay=args.agent_join_delay,
        loopback_only=args.loopback_only,
        departure_timeout=args.departure_timeout,
        webhook_retries=args.webhook_retries,
        webhook_backoff=args.webhook_backoff,
        webhook_timeout=args.webhook_timeout,
    )
