"""The assistant's mouth: each line as audio with word timings, ready before it is needed.

eSpeak NG takes tens of milliseconds for a sentence (more on a busy machine), all of it between the end of
the visitor's turn and the first word of the answer. Most answers are fixed lines (a rule's reply, its
question back, the fallback), so they are synthesised once per call, in a worker thread while the
assistant greets, and kept; a line made up on the spot (a tool's answer) is synthesised in a worker thread
too, so the visitor's microphone is still listened to meanwhile (eSpeak is called through ctypes, which
lets go of the GIL).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence

from ..brain import Brain
from . import espeak
from .audio import SpeechPlan, plan_speech

log = logging.getLogger("flask_hms_webcall.sandbox.media")

_KEPT = 64  # lines kept per call: the rules' fixed lines and the last few others

__all__ = ["Mouth", "fixed_lines"]


def fixed_lines(brain: Brain) -> list[str]:
    """The lines the assistant may say that do not depend on what a tool answers."""
    lines = [brain.fallback]
    for rule in brain.rules:
        lines += [rule.ask, rule.on_error] if rule.tool else [rule.say]
    return [line for line in dict.fromkeys(lines) if line.strip() and "{" not in line]


class Mouth:
    def __init__(self, voices: Sequence[str], *, words: bool) -> None:
        self.voices = list(voices)
        self.words = words  # eSpeak NG, else tones
        self._plans: dict[str, SpeechPlan] = {}

    def plan(self, text: str) -> SpeechPlan:
        """``text`` as audio with word timings: eSpeak NG in the assistant's voice, else tones."""
        kept = self._plans.get(text)
        if kept is not None:
            return kept
        plan = espeak.synthesize(text, self.voices) if self.words else None
        plan = plan if plan is not None else plan_speech(text)
        if len(self._plans) >= _KEPT:
            self._plans.pop(next(iter(self._plans)))
        self._plans[text] = plan
        return plan

    async def speak(self, text: str) -> SpeechPlan:
        """:meth:`plan`, off the event loop unless it is ready."""
        kept = self._plans.get(text)
        return kept if kept is not None else await asyncio.to_thread(self.plan, text)

    async def prepare(self, lines: Iterable[str]) -> None:
        """Synthesise ``lines`` ahead, one by one in a worker thread."""
        for line in lines:
            await asyncio.to_thread(self.plan, line)
