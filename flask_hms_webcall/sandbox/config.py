"""What a sandbox run is configured with: the command-line flags, as one immutable value."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_API_KEY = "sk_sandbox_local"
DEFAULT_ASSISTANT_ID = "5a4db0c5-0000-4000-8000-000000000001"

# The limits of the Web Calls page. Tests shorten the durations; the defaults are the real values.
MAX_CONCURRENT_CALLS = 3
TOKEN_TTL_SECONDS = 300
MAX_DURATION_SECONDS = 300
UNJOINED_ROOM_TTL_SECONDS = 60

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
    # Saved assistants by id: each a dict of assistant fields (first_message, metadata, webhook_url, ...).
    assistants: dict[str, dict[str, Any]] = field(default_factory=dict)
    credits_seconds: float | None = None  # None: unlimited balance
    max_concurrent_calls: int = MAX_CONCURRENT_CALLS
    token_ttl: float = TOKEN_TTL_SECONDS
    max_duration: float = MAX_DURATION_SECONDS
    unjoined_room_ttl: float = UNJOINED_ROOM_TTL_SECONDS
    script: Script = field(default_factory=Script)
    # Seconds after the user joins before the assistant joins; None: it never joins (tests of the widget).
    agent_join_delay: float | None = 0.0
    # Bind ICE to 127.0.0.1 only (tests, with Chromium's --allow-loopback-in-peer-connection).
    loopback_only: bool = False
    webhook_retries: int = 3
    webhook_backoff: float = 0.5

    @property
    def api_base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def server_url(self) -> str:
        return f"ws://{self.host}:{self.port}"
