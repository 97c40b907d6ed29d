"""The sandbox assistant's brain: scripted rules, no LLM. What it says to what it heard.

An assistant's rules live in its ``llm_config`` (where a real assistant's prompt and tools are), in the
sandbox's assistants file or a transient/override config::

    "llm_config": {
      "provider": "sandbox",
      "rules": [
        {"when": ["opening hours", "open"], "say": "We are open from nine to five."},
        {"when": ["order"], "tool": "lookup_order", "arguments": {"order_id": "{number}"},
         "say": "Order {order_id} is {status}.", "ask": "Which order number?"},
        {"when": ["goodbye", "bye"], "say": "Goodbye!", "hang_up": true}
      ],
      "fallback": "Sorry, I can only tell you our opening hours or an order's status."
    }

The first rule with a ``when`` phrase among the heard words (whole words, case and punctuation ignored)
wins; none: the ``fallback`` line. Numbers spoken as words become digits first ("order one two three" →
"order 123"). Argument templates take ``{number}`` (the first number heard) and ``{text}`` (all of it); a
rule whose arguments need a number nobody said answers with its ``ask`` line instead. A tool's result is
read out through ``say``: the fields of a JSON object result (and the arguments) fill its placeholders, a
text result fills ``{result}`` or is said as it is. ``examples`` (optional) are more sentences the ears
should expect for the rule. Rules and fallback are used only when the assistant's speech recognition is
available; see the docs.
"""

from __future__ import annotations

import json
import logging
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("flask_hms_webcall.sandbox")

_UNITS = {
    "zero": 0, "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9,
}  # fmt: skip
_TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
DIGIT_WORDS = tuple(w for w in _UNITS if w != "oh")
# Runs of three digit words covering every pair of neighbours once: "zero zero one", "one zero two", ...
_DIGIT_RUNS = tuple(
    " ".join(DIGIT_WORDS[(a + k * b) % 10] for k in range(3)) for a in range(10) for b in range(10)
)

DEFAULT_FALLBACK = (
    "Sorry, I can tell you our opening hours or the status of an order. "
    "Try: what is the status of order one two three?"
)
DEFAULT_ASK = "Which number? Please say it digit by digit."
DEFAULT_TOOL_ERROR = "Sorry, I could not get an answer from {tool} just now. Is there anything else?"

DEFAULT_RULES: list[dict[str, Any]] = [
    {
        "when": ["opening hours", "open", "hours"],
        "examples": ["what are your opening hours", "when are you open", "are you open on saturday"],
        "say": "We are open Monday to Friday from nine to five, and on Saturday from ten to two.",
    },
    {
        "when": ["order", "parcel", "package"],
        "examples": [
            "what is the status of order one two three",
            "where is my order four five six",
            "check order seven eight nine",
            "can you look up my order",
        ],
        "tool": "lookup_order",
        "arguments": {"order_id": "{number}"},
        # Fields of the example app's answer; a text answer (or other fields) is read out as it is.
        "say": "Order {order_id} is {status}.",
        "ask": "Which order? Please say its number digit by digit, for example: order one two three.",
    },
    {
        "when": ["person", "human", "agent", "someone"],
        "examples": ["can i talk to a person", "i want to speak to a human"],
        "say": "I am the sandbox assistant, there is nobody else here. I can look up an order for you.",
    },
    {
        "when": ["goodbye", "bye", "that's all", "that is all"],
        "examples": ["goodbye", "thank you bye", "that is all thanks"],
        "say": "Thanks for calling. Goodbye!",
        "hang_up": True,
    },
    {
        "when": ["thank you", "thanks"],
        "examples": ["thank you", "thanks a lot"],
        "say": "You are welcome. Anything else?",
    },
    {
        "when": ["hello", "hi", "hey"],
        "examples": ["hello", "hi there", "hello can you hear me"],
        "say": "Hello! I can hear you. Ask me about our opening hours or an order.",
    },
]

# The tool the default rules call; the sandbox's default assistant declares it, as a real assistant would.
LOOKUP_ORDER_TOOL: dict[str, Any] = {
    "name": "lookup_order",
    "description": "Look up the status of an order by its number.",
    "parameters": {
        "type": "object",
        "properties": {"order_id": {"type": "string", "description": "The order number, digits only."}},
        "required": ["order_id"],
    },
}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def words_to_digits(text: str) -> str:
    """``text`` lower-cased, without punctuation, each run of spoken numbers written as digits.

    Digits said one by one join up ("one two three" → "123"); tens combine with a unit ("twenty three" →
    "23"). "oh" counts as zero only next to another number word, so "oh, hello" stays as it is.
    """
    words = _words(text)
    out: list[str] = []
    run: list[str] = []

    def number_word(i: int) -> bool:
        w = words[i]
        if w == "oh":
            neighbours = [words[j] for j in (i - 1, i + 1) if 0 <= j < len(words)]
            return any(
                n != "oh" and (n in _UNITS or n in _TEENS or n in _TENS or n.isdigit()) for n in neighbours
            )
        return w in _UNITS or w in _TEENS or w in _TENS or w.isdigit()

    i = 0
    while i < len(words):
        if not number_word(i):
            if run:
                out.append("".join(run))
                run = []
            out.append(words[i])
            i += 1
            continue
        w = words[i]
        if w in _TENS:
            value = _TENS[w]
            if i + 1 < len(words) and words[i + 1] in _UNITS and _UNITS[words[i + 1]] > 0:
                value += _UNITS[words[i + 1]]
                i += 1
            run.append(str(value))
        elif w in _TEENS:
            run.append(str(_TEENS[w]))
        elif w.isdigit():
            run.append(w)
        else:
            run.append(str(_UNITS[w]))
        i += 1
    if run:
        out.append("".join(run))
    return " ".join(out)


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

    def matches(self, heard: str) -> bool:
        padded = f" {heard} "
        return any(f" {words_to_digits(p)} " in padded for p in self.when)

    @property
    def needs_number(self) -> bool:
        return any("{number}" in template for template in self.arguments.values())


@dataclass(frozen=True)
class Decision:
    """What to do about one turn: say ``text``, or first call ``tool`` with ``arguments``; maybe hang up."""

    text: str
    rule: Rule | None = None
    tool: str | None = None
    arguments: dict[str, str] = field(default_factory=dict)
    hang_up: bool = False


def _fill(template: str, values: Mapping[str, Any]) -> str | None:
    """``template`` with ``{name}`` placeholders filled from ``values``; None if one is missing or bad."""
    try:
        # Values are strings by now, so a placeholder can only reach a str's attributes.
        return string.Formatter().vformat(template, (), {k: _spoken(v) for k, v in values.items()})
    except (KeyError, IndexError, ValueError, AttributeError):
        return None


def _spoken(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "nothing"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def read_out(value: Any) -> str:
    """A tool result nobody gave a template for, as a sentence: text as is, an object as "key: value"."""
    if isinstance(value, Mapping):
        parts = [f"{str(k).replace('_', ' ')}: {_spoken(v)}" for k, v in value.items()]
        return ". ".join(parts) + "." if parts else "The tool gave no details."
    if isinstance(value, list):
        return ", ".join(_spoken(v) for v in value) or "The tool gave no details."
    return _spoken(value)


class Brain:
    def __init__(self, rules: list[Rule], fallback: str = DEFAULT_FALLBACK) -> None:
        self.rules = rules
        self.fallback = fallback

    @classmethod
    def from_assistant(cls, assistant: Mapping[str, Any]) -> Brain:
        """The brain of an assistant config: its ``llm_config`` rules, else the default rules.

        Malformed rules (possible in a transient config, which is not checked at creation) are logged and
        replaced by the defaults, so a call never fails over them.
        """
        llm = assistant.get("llm_config")
        llm = llm if isinstance(llm, Mapping) else {}
        try:
            rules = parse_rules(llm.get("rules", DEFAULT_RULES))
        except ValueError as exc:
            log.warning("the assistant's rules are unusable (%s); using the default rules", exc)
            rules = parse_rules(DEFAULT_RULES)
        fallback = llm.get("fallback")
        return cls(rules, fallback if isinstance(fallback, str) and fallback.strip() else DEFAULT_FALLBACK)

    def phrases(self) -> list[str]:
        """What the ears should expect: each rule's phrases and examples (digits too if it takes a number)."""
        out: list[str] = []
        for rule in self.rules:
            out += [*rule.when, *rule.examples]
            if rule.needs_number:
                # Every pair of digits after the rule's phrases, once: enough to hear any number, not so
                # many that digits crowd out the other words.
                lead = [*rule.when, *(" ".join(e.split()[:-3]) for e in rule.examples)]
                out += [f"{lead[i % len(lead)]} {run}" for i, run in enumerate(_DIGIT_RUNS)]
        return out

    def decide(self, heard: str) -> Decision:
        """The reply to one turn's recognised words (empty: nothing intelligible was heard)."""
        said = words_to_digits(heard)
        rule = next((r for r in self.rules if said and r.matches(said)), None)
        if rule is None:
            return Decision(text=self.fallback)
        if rule.tool is None:
            return Decision(text=rule.say, rule=rule, hang_up=rule.hang_up)
        number = next((w for w in said.split() if w.isdigit()), None)
        if rule.needs_number and number is None:
            return Decision(text=rule.ask, rule=rule)
        values = {"number": number or "", "text": said}
        arguments = {name: _fill(template, values) or "" for name, template in rule.arguments.items()}
        return Decision(text="", rule=rule, tool=rule.tool, arguments=arguments, hang_up=rule.hang_up)

    @staticmethod
    def answer(decision: Decision, result: Any) -> str:
        """What to say once ``decision.tool`` returned ``result`` (text, or a parsed JSON value)."""
        assert decision.rule is not None
        template = decision.rule.say or "{result}"
        values: dict[str, Any] = dict(decision.arguments)
        if isinstance(result, Mapping):
            values.update({str(k): v for k, v in result.items()})
        values["result"] = read_out(result)
        filled = _fill(template, values)
        if filled is None or (not isinstance(result, Mapping) and "{result}" not in template):
            return read_out(result)  # a text answer is said as it is unless the template quotes it
        return filled

    @staticmethod
    def failed(decision: Decision) -> str:
        assert decision.rule is not None
        tool = (decision.tool or "the tool").replace("_", " ")
        return _fill(decision.rule.on_error, {"tool": tool}) or DEFAULT_TOOL_ERROR.format(tool=tool)


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
        if not isinstance(when, list) or not when or not all(isinstance(w, str) and _words(w) for w in when):
            raise ValueError(f"{where}.when must be a non-empty list of phrases")
        texts = {k: item.get(k) for k in ("say", "tool", "ask", "on_error")}
        for key, text in texts.items():
            if text is not None and not isinstance(text, str):
                raise ValueError(f"{where}.{key} must be a string")
        arguments = item.get("arguments", {})
        if not isinstance(arguments, Mapping) or not all(isinstance(v, str) for v in arguments.values()):
            raise ValueError(f"{where}.arguments must be an object of template strings")
        examples = item.get("examples", [])
        if not isinstance(examples, list) or not all(isinstance(e, str) for e in examples):
            raise ValueError(f"{where}.examples must be a list of sentences")
        if not texts["tool"] and not (texts["say"] or "").strip():
            raise ValueError(f"{where} needs a 'say' line or a 'tool'")
        rules.append(
            Rule(
                when=tuple(" ".join(_words(w)) for w in when),
                say=texts["say"] or "",
                tool=texts["tool"] or None,
                arguments=dict(arguments),
                ask=texts["ask"] or DEFAULT_ASK,
                on_error=texts["on_error"] or DEFAULT_TOOL_ERROR,
                hang_up=bool(item.get("hang_up", False)),
                examples=tuple(examples),
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
