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

The heard words are normalised first (``language.normalise``: fillers dropped, "what's" spelled out,
numbers as people say them written as digits: "one two three" and "one twenty three" are both "123"). The
first rule with a ``when`` phrase among them (whole words, a plural "s" ignored) wins; none: the
``fallback`` line. Argument templates take ``{number}`` (the first number after the rule's phrase, else the
first one heard) and ``{text}`` (all of it); a rule whose arguments need a number nobody said answers with
its ``ask`` line instead, and a number said on its own next turn completes it. ``digits`` (optional) is how
long the rule's numbers are: a number of another length counts as misheard ("three one alright" for "three
one four"), so the rule asks rather than calling its tool with a wrong argument. A tool's result is read out
through ``say``: the fields of a JSON object result (and the arguments) fill its placeholders, a text
result fills ``{result}`` or is said as it is. ``examples`` (optional) are more sentences the ears should
expect for the rule. Rules and fallback are used only when the assistant's speech recognition is
available; see the docs.
"""

from __future__ import annotations

import itertools
import json
import logging
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .language import normalise, sentences, words

log = logging.getLogger("flask_hms_webcall.sandbox")

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
        "digits": 3,
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


def _stem(word: str) -> str:
    """A plural or third-person "s" dropped, so "hours" is "hour" and "opens" is "open"."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _before_number(sentence: str) -> str:
    """``sentence`` up to its first number ("where is my order four five six" → "where is my order")."""
    said = words(sentence)
    return " ".join(itertools.takewhile(lambda w: not normalise(w).isdigit(), said))


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

    def matches(self, heard: str) -> bool:
        return self.match_end(heard.split()) is not None

    def match_end(self, said: list[str]) -> int | None:
        """Where the first of this rule's phrases heard in ``said`` (normalised words) ends, if any."""
        heard = [_stem(w) for w in said]
        ends = []
        for phrase in self.when:
            wanted = [_stem(w) for w in normalise(phrase).split()]
            n = len(wanted)
            ends += [i + n for i in range(len(heard) - n + 1) if heard[i : i + n] == wanted]
        return min(ends, default=None)

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
        self._asked: Rule | None = None  # a tool rule that asked for a number last turn

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
        """What the ears should expect: the rules' phrases and examples as people say them, with numbers
        after the phrases of rules that take one (see :func:`.language.sentences`)."""
        said = [phrase for rule in self.rules for phrase in (*rule.when, *rule.examples)]
        leads = [
            lead
            for rule in self.rules
            if rule.needs_number
            for lead in (*rule.when, *map(_before_number, rule.examples))
        ]
        return list(sentences(said, leads))

    def decide(self, heard: str) -> Decision:
        """The reply to one turn's recognised words (empty: nothing intelligible was heard).

        The first rule with a phrase among the words wins. A number fills the rule's ``{number}``: the first
        one after the phrase ("order 123"), else the first one heard. A turn with only a number answers the
        rule that asked for one the turn before.
        """
        said = normalise(heard).split()
        asked, self._asked = self._asked, None
        rule, end = next(((r, e) for r in self.rules if (e := r.match_end(said)) is not None), (None, 0))
        if rule is None and asked is not None and any(w.isdigit() for w in said):
            rule = asked
        if rule is None:
            return Decision(text=self.fallback)
        if rule.tool is None:
            return Decision(text=rule.say, rule=rule, hang_up=rule.hang_up)
        numbers = [w for w in said[end:] if w.isdigit()] + [w for w in said if w.isdigit()]
        if rule.digits is not None:  # "three one alright" for "three one four": ask, not look up order 31
            numbers = [n for n in numbers if len(n) == rule.digits]
        if rule.needs_number and not numbers:
            self._asked = rule
            return Decision(text=rule.ask, rule=rule)
        values = {"number": numbers[0] if numbers else "", "text": " ".join(said)}
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
        if not isinstance(when, list) or not when or not all(isinstance(w, str) and words(w) for w in when):
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
