"""An assistant's rules: what each listens for (:class:`Rule`, matched against heard words) and their JSON
form in an assistant's ``llm_config`` (:func:`parse_rules`, :func:`rules_error`). What the assistant does
with them is the brain's (``brain``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .default_rules import DEFAULT_ASK, DEFAULT_CLOSING_CHECK, DEFAULT_CONFIRM, DEFAULT_TOOL_ERROR
from .language import normalise, words

__all__ = ["Rule", "parse_rules", "rules_error"]


def _stem(word: str) -> str:
    """A plural or third-person "s" dropped, so "hours" is "hour" and "opens" is "open"."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


@dataclass(frozen=True)
class Rule:
    when: tuple[str, ...]
    say: str = ""
    tool: str | None = None
    arguments: Mapping[str, str] = field(default_factory=dict)
    ask: str = DEFAULT_ASK
    on_error: str = DEFAULT_TOOL_ERROR
    hang_up: bool = False
    examples: tuple[str, ...] = ()
    digits: int | None = None  # the length of the rule's numbers: one of another length was misheard
    confirm: str | None = None  # the question that checks a doubtful number or goodbye before acting on it
    also: tuple[str, ...] = ()  # more phrases, matched like ``when`` but not added to the ears' model

    def matches(self, heard: str) -> bool:
        return self.match_end(heard.split()) is not None

    def hits(self, said: Sequence[str]) -> list[tuple[int, int]]:
        """Where this rule's phrases are in ``said`` (normalised words), left to right, not overlapping."""
        heard = [_stem(w) for w in said]
        found = []
        for phrase in (*self.when, *self.also):
            wanted = [_stem(w) for w in normalise(phrase).split()]
            n = len(wanted)
            found += [(i, i + n) for i in range(len(heard) - n + 1) if heard[i : i + n] == wanted]
        hits: list[tuple[int, int]] = []
        for start, end in sorted(found, key=lambda hit: (hit[0], -hit[1])):
            if not hits or start >= hits[-1][1]:
                hits.append((start, end))
        return hits

    def match_end(self, said: Sequence[str]) -> int | None:
        """Where the first of this rule's phrases heard in ``said`` (normalised words) ends, if any."""
        return min((end for _, end in self.hits(said)), default=None)

    @property
    def confirm_line(self) -> str:
        if self.confirm:
            return self.confirm
        return DEFAULT_CLOSING_CHECK if self.hang_up and self.tool is None else DEFAULT_CONFIRM

    @property
    def needs_number(self) -> bool:
        return any("{number}" in template for template in self.arguments.values())


def parse_rules(value: Any) -> list[Rule]:
    """Rules from their JSON form; ``ValueError`` naming the first problem."""
    if not isinstance(value, list):
        raise ValueError("llm_config.rules must be a list")
    rules = []
    for n, item in enumerate(value):
        where = f"llm_config.rules[{n}]"
        if not isinstance(item, Mapping):
            raise ValueError(f"{where} must be an object")
        when = item.get("when")
        if isinstance(when, str):
            when = [when]
        if not isinstance(when, list) or not when or not all(isinstance(w, str) and words(w) for w in when):
            raise ValueError(f"{where}.when must be a non-empty list of phrases")
        texts = {k: item.get(k) for k in ("say", "tool", "ask", "on_error", "confirm")}
        for key, text in texts.items():
            if text is not None and not isinstance(text, str):
                raise ValueError(f"{where}.{key} must be a string")
        arguments = item.get("arguments", {})
        if not isinstance(arguments, Mapping) or not all(isinstance(v, str) for v in arguments.values()):
            raise ValueError(f"{where}.arguments must be an object of template strings")
        examples = item.get("examples", [])
        if not isinstance(examples, list) or not all(isinstance(e, str) for e in examples):
            raise ValueError(f"{where}.examples must be a list of sentences")
        also = item.get("also", [])
        if not isinstance(also, list) or not all(isinstance(w, str) and words(w) for w in also):
            raise ValueError(f"{where}.also must be a list of phrases")
        digits = item.get("digits")
        if digits is not None and (not isinstance(digits, int) or isinstance(digits, bool) or digits < 1):
            raise ValueError(f"{where}.digits must be a positive whole number")
        if not texts["tool"] and not (texts["say"] or "").strip():
            raise ValueError(f"{where} needs a 'say' line or a 'tool'")
        rules.append(
            Rule(
                when=tuple(" ".join(words(w)) for w in when),
                say=texts["say"] or "",
                tool=texts["tool"] or None,
                arguments=dict(arguments),
                ask=texts["ask"] or DEFAULT_ASK,
                on_error=texts["on_error"] or DEFAULT_TOOL_ERROR,
                hang_up=bool(item.get("hang_up", False)),
                examples=tuple(examples),
                digits=digits,
                confirm=texts["confirm"] or None,
                also=tuple(" ".join(words(w)) for w in also),
            )
        )
    return rules


def rules_error(assistant: Mapping[str, Any]) -> str | None:
    """Why an assistant's rules (if it has any) cannot be used, or None; for the assistants file."""
    llm = assistant.get("llm_config")
    if not isinstance(llm, Mapping) or "rules" not in llm:
        return None
    try:
        parse_rules(llm["rules"])
    except ValueError as exc:
        return str(exc)
    fallback = llm.get("fallback")
    if fallback is not None and not isinstance(fallback, str):
        return "llm_config.fallback must be a string"
    return None
