"""Switches that make the sandbox misbehave on purpose, so clients can test their error paths.

Set through ``POST /_sandbox/faults``; ``app["faults"]`` is read by both faces. The media face takes the
assistant's join delay from here (not from the config), so a test can change it while the sandbox runs.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from .config import SandboxConfig

_COUNTERS = ("expire_next_tokens", "fail_next_creates")


class FaultsRejected(ValueError):
    """A ``POST /_sandbox/faults`` body that cannot be applied; ``str()`` says why."""


@dataclass
class Faults:
    # The next n tokens minted by POST /v1/web-calls are already expired when issued.
    expire_next_tokens: int = 0
    # The next n creates that pass every check answer 500 "Failed to create web call session: ...".
    fail_next_creates: int = 0
    # Seconds after the user joins before the assistant joins; None: it never joins.
    agent_join_delay: float | None = 0.0
    # False: the assistant publishes no lk.agent.state attribute, as an agent that does not would; the
    # browser then has only the active-speaker updates and the transcripts to tell what it is doing.
    agent_state: bool = True

    @classmethod
    def from_config(cls, config: SandboxConfig) -> Faults:
        return cls(agent_join_delay=config.agent_join_delay)

    def take(self, counter: str) -> bool:
        """Use up one of a counter fault: True when it was armed."""
        if counter not in _COUNTERS:
            raise KeyError(counter)
        remaining = getattr(self, counter)
        if remaining <= 0:
            return False
        setattr(self, counter, remaining - 1)
        return True

    def update(self, changes: Any) -> None:
        """Apply a partial update; nothing changes unless every key and value is valid."""
        if not isinstance(changes, dict):
            raise FaultsRejected("body must be a JSON object")
        unknown = sorted(set(changes) - {*_COUNTERS, "agent_join_delay", "agent_state"})
        if unknown:
            raise FaultsRejected(f"unknown fault: {', '.join(unknown)}")
        for name in _COUNTERS:
            value = changes.get(name, 0)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise FaultsRejected(f"{name} must be a non-negative integer")
        delay = changes.get("agent_join_delay")
        if delay is not None and (
            isinstance(delay, bool)
            or not isinstance(delay, (int, float))
            or not math.isfinite(delay)
            or delay < 0
        ):
            raise FaultsRejected("agent_join_delay must be a non-negative number of seconds, or null (never)")
        if not isinstance(changes.get("agent_state", True), bool):
            raise FaultsRejected("agent_state must be true or false")
        for name, value in changes.items():
            setattr(self, name, float(value) if name == "agent_join_delay" and value is not None else value)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
