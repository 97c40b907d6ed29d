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

The heard words are normalised first (``language.understand``: fillers dropped, "what's" spelled out,
numbers as people say them written as digits: "one two three", "one twenty three" and "one hundred and
twenty three" are all "123"; see ``numbers``). The first rule with a ``when`` phrase among them (whole
words, a plural "s" ignored) wins; none: the ``fallback`` line. Argument templates take ``{number}`` (the
first number after the rule's phrase, else the first one heard) and ``{text}`` (all of it); a rule whose
arguments need a number nobody said answers with its ``ask`` line instead, and a number said on its own
next turn completes it. ``digits`` (optional) is how long the rule's numbers are: a number of another
length counts as misheard ("three one alright" for "three one four"), so the rule asks rather than calling
its tool with a wrong argument. A number that may be misheard ("three hundred and" with nothing after it)
is checked with the rule's ``confirm`` line ("Order {number}, is that right?") and the tool called on a
yes. A ``hang_up`` rule ends the call only on a turn that is a goodbye (see ``courtesy``); one that may be a
misheard thanks, or that ends a sentence about something else, is checked with its ``confirm`` line
("Anything else I can help with?"). A tool's result is
read out through ``say``: the fields of a JSON object result (and the arguments) fill its placeholders, a
text result fills ``{result}`` or is said as it is. ``examples`` (optional) are more sentences the ears
should expect for the rule; ``also`` (optional) more phrases that trigger it, which the ears are not told
to expect. Rules and fallback are used only when the assistant's speech recognition is
available; see the docs.
"""

from __future__ import annotations

import itertools
import json
import logging
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from . import courtesy
from .default_rules import (
    DEFAULT_CONFIRM,
    DEFAULT_FALLBACK,
    DEFAULT_RULES,
    DEFAULT_TOOL_ERROR,
    GO_ON,
    LOOKUP_ORDER_TOOL,
)
from .language import normalise, sentences, understand, words
from .numbers import Reading
from .rules import Rule, parse_rules, rules_error

log = logging.getLogger("flask_hms_webcall.sandbox")

# The share of the recogniser's next best readings that must name one rule for it to be taken when the
# words heard name none. Measured on the benchmark's own-words tuning set with ten readings: a third took 3
# more sentences to the right rule and 1 to a check of the right number, and sent no off-topic question to
# a rule; a fifth took 5 and 2, and sent one.
AGREEING_SHARE = 1 / 3

__all__ = [
    "DEFAULT_FALLBACK",
    "DEFAULT_RULES",
    "LOOKUP_ORDER_TOOL",
    "Brain",
    "Decision",
    "Rule",
    "parse_rules",
    "rules_error",
]


def _before_number(sentence: str) -> str:
    """``sentence`` up to its first number ("where is my order four five six" → "where is my order")."""
    said = words(sentence)
    return " ".join(itertools.takewhile(lambda w: not normalise(w).isdigit(), said))


@dataclass(frozen=True)
class Decision:
    """What to do about one turn: say ``text``, or first call ``tool`` with ``arguments``; maybe hang up."""

    text: str
    rule: Rule | None = None
    tool: str | None = None
    arguments: dict[str, str] = field(default_factory=dict)
    hang_up: bool = False


@dataclass(frozen=True)
class Pending:
    """A question the assistant asked and waits for the answer to, next turn.

    ``number``: it asked for the rule's number. ``confirm``: it asked whether it heard ``number`` right
    ("Order 300, is that right?"). ``closing``: it asked "anything else?" after a goodbye it was not sure of.
    """

    kind: Literal["number", "confirm", "closing"]
    rule: Rule
    number: str = ""
    text: str = ""  # the words of the turn that asked for the tool, for its {text} argument
    repeated: bool = False  # the question was asked again once already: the next unclear answer moves on


def _doubtful(text: str) -> Reading:
    """``text`` read as words the recogniser was sure of none of (a reading it did not rank first)."""
    return understand(text, (0.0,) * len(words(text)))


def _fill(template: str, values: Mapping[str, Any]) -> str | None:
    """``template`` with ``{name}`` placeholders filled from ``values``; None if one is missing or bad."""
    try:
        # Values are strings by now, so a placeholder can only reach a str's attributes.
        return string.Formatter().vformat(template, (), {k: _spoken(v) for k, v in values.items()})
    except (KeyError, IndexError, ValueError, AttributeError):
        return None


def _checking(rule: Rule, number: str) -> str:
    """The question that checks ``number`` before ``rule`` calls its tool with it."""
    values = {"number": number}
    return _fill(rule.confirm_line, values) or _fill(DEFAULT_CONFIRM, values) or number


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
        self._pending: Pending | None = None  # the question the assistant asked last turn, if any

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
        after the phrases of rules that take one (see :func:`.language.sentences`). Not the ``also``
        phrases: they are words the everyday sentences already carry, and a rule's phrases weigh on how
        the ears hear everything else."""
        said = [phrase for rule in self.rules for phrase in (*rule.when, *rule.examples)]
        leads = [
            lead
            for rule in self.rules
            if rule.needs_number
            for lead in (*rule.when, *map(_before_number, rule.examples))
        ]
        return list(sentences(said, leads))

    def decide(
        self, heard: str, confidence: Sequence[float] | None = None, alternatives: Sequence[str] = ()
    ) -> Decision:
        """The reply to one turn's recognised words (empty: nothing intelligible was heard).

        The first rule with a phrase among the words wins. A number fills the rule's ``{number}``: the first
        one after the phrase ("order 123"), else the first one heard. A number that may be misheard is
        checked first ("Order 300, is that right?"), and so is a goodbye that may be a misheard thanks; the
        answer to such a question, or to the rule's ``ask``, is read with the question in mind.
        ``confidence`` (optional): the recogniser's probability (0..1) for each word of ``heard``.

        ``alternatives`` (optional): the recogniser's next best readings of the turn, best first. When the
        words name no rule, a rule that at least a third of them name is taken; when the rule needs a number
        the words lack (or the turn answers the rule's question for it), the first reading with one gives
        it. Either way the reading is taken as one the recogniser was sure of nothing in: its number is
        checked, its goodbye asked about, never acted on.
        """
        said = understand(heard, confidence)
        pending, self._pending = self._pending, None
        if pending is not None:
            decision = self._answer_to(pending, said)
            if decision is not None and pending.kind == "number" and self._asking("number"):
                return self._number_in(alternatives, pending.rule, answering=True) or decision
            if decision is not None:
                return decision
        rule, end = self._match(said)
        if rule is None:
            agreed = self._agreed(alternatives)
            if agreed is None:
                return Decision(text=self.fallback)
            rule, end, said = agreed
        decision = self._act(rule, end, said)
        if self._asking("number"):
            return self._number_in(alternatives, rule) or decision
        return decision

    @property
    def closing(self) -> bool:
        """Whether the assistant just asked "anything else?" about a goodbye it was not sure of."""
        return self._asking("closing")

    def unanswered(self) -> Decision | None:
        """The reply when the visitor says nothing to the assistant's last question: after "anything
        else?", the goodbye it asked about (a person who said goodbye and then nothing is gone); to any
        other question, none (it waits on)."""
        pending = self._pending
        if pending is None or pending.kind != "closing":
            return None
        self._pending = None
        return Decision(text=pending.rule.say, rule=pending.rule, hang_up=True)

    def _asking(self, kind: str) -> bool:
        """Whether the decision just made asked the visitor a question of this kind."""
        return self._pending is not None and self._pending.kind == kind

    def _agreed(self, alternatives: Sequence[str]) -> tuple[Rule, int, Reading] | None:
        """The rule named by the most of ``alternatives`` (the best ranked on a tie), if at least
        AGREEING_SHARE of them name it; with where its phrase ends in the best reading naming it."""
        readings = [_doubtful(text) for text in alternatives if text]
        named: dict[int, list[tuple[Rule, int, Reading]]] = {}
        for said in readings:
            rule, end = self._match(said)
            if rule is not None:
                named.setdefault(id(rule), []).append((rule, end, said))
        if not named:
            return None
        most = max(named.values(), key=len)  # max keeps the first of equals: the best ranked
        return most[0] if len(most) >= AGREEING_SHARE * len(readings) else None

    def _number_in(
        self, alternatives: Sequence[str], rule: Rule, *, answering: bool = False
    ) -> Decision | None:
        """The check of the number the first of ``alternatives`` naming ``rule`` has ("Order 619, is that
        right?"), when the words heard had none; None (the rule's ``ask`` stands) if none has one.
        ``answering``: the turn answers the rule's ``ask``, so a reading that names no rule counts too."""
        for text in alternatives:
            said = _doubtful(text)
            matched, end = self._match(said)
            if matched is rule or (answering and matched is None):
                decision = self._use(rule, end, said)
                if self._asking("confirm"):
                    return decision
        self._pending = Pending("number", rule)
        return None

    def _match(self, said: Reading) -> tuple[Rule | None, int]:
        """The first rule with a phrase in ``said``, and where the phrase ends; a rule that hangs up only if
        the turn is about saying goodbye, or ends with its phrase (a "bye" inside a sentence about something
        else is not one; "right, let you go, bye" may be: see :meth:`_goodbye`)."""
        for rule in self.rules:
            hits = rule.hits(said.words)
            if hits and (not rule.hang_up or self._goodbye(said, hits) is not None):
                return rule, hits[0][1]
        return None, 0

    @staticmethod
    def _goodbye(said: Reading, hits: Sequence[tuple[int, int]]) -> bool | None:
        """Whether a turn with a hang-up rule's phrase at ``hits`` surely is a goodbye (True), may be one
        (False: checked with the rule's ``confirm`` line) or is about something else (None)."""
        if courtesy.about_goodbye(said.words, hits):
            return courtesy.goodbye_meant(said, hits)
        # Its other words are not a goodbye's, but it ends with one: the ears may have misheard them
        # ("right i'll let you go bye" heard as "right i live you bye"); never hung up on, only asked.
        return False if courtesy.said_last(said.words, hits) else None

    def _act(self, rule: Rule, end: int, said: Reading) -> Decision:
        if rule.hang_up and not self._goodbye(said, rule.hits(said.words)):
            self._pending = Pending("closing", rule)
            return Decision(text=rule.confirm_line, rule=rule)
        if rule.tool is None:
            return Decision(text=rule.say, rule=rule, hang_up=rule.hang_up)
        return self._use(rule, end, said)

    def _use(self, rule: Rule, end: int, said: Reading) -> Decision:
        """Call ``rule``'s tool with the number heard after word ``end``; or ask for one, or check it."""
        text = " ".join(said.words)
        if not rule.needs_number:
            return self._call(rule, "", text)
        after = said.numbers(end)
        numbers = after + said.numbers()
        if rule.digits is not None:  # "three one alright" for "three one four": ask, not look up order 31
            numbers = [(n, sure) for n, sure in numbers if len(n) == rule.digits]
            after = [(n, sure) for n, sure in after if len(n) == rule.digits]
        if not numbers:
            self._pending = Pending("number", rule)
            return Decision(text=rule.ask, rule=rule)
        number, sure = numbers[0]
        if sure and len({n for n, _ in after}) <= 1:  # two numbers after "order": which one?
            return self._call(rule, number, text)
        self._pending = Pending("confirm", rule, number, text)
        return Decision(text=_checking(rule, number), rule=rule)

    @staticmethod
    def _call(rule: Rule, number: str, text: str) -> Decision:
        values = {"number": number, "text": text}
        arguments = {name: _fill(template, values) or "" for name, template in rule.arguments.items()}
        assert rule.tool is not None
        return Decision(text="", rule=rule, tool=rule.tool, arguments=arguments, hang_up=rule.hang_up)

    def _answer_to(self, pending: Pending, said: Reading) -> Decision | None:
        """The reply to the answer to the assistant's own question; None: the turn is not an answer."""
        words = said.words
        if pending.kind == "closing":
            # A goodbye the turn is about (not one it merely ends with: the visitor was asked if there
            # is anything else, and may be asking it, misheard).
            if courtesy.is_nothing_else(words) or courtesy.about_goodbye(words, pending.rule.hits(words)):
                return Decision(text=pending.rule.say, rule=pending.rule, hang_up=True)
            return Decision(text=GO_ON) if courtesy.is_yes(words) else None
        rule, end = self._match(said)
        if rule is not None and rule is not pending.rule:
            return None  # another question altogether
        if pending.kind == "confirm":
            numbers = said.numbers()
            if numbers and all(n == pending.number for n, _ in numbers) and not courtesy.is_no(words):
                return self._call(pending.rule, pending.number, pending.text)  # "yes, three hundred"
            if courtesy.is_yes(words):
                return self._call(pending.rule, pending.number, pending.text)
            if courtesy.is_no(words):
                self._pending = Pending("number", pending.rule)
                return Decision(text=pending.rule.ask, rule=pending.rule)
        if any(w.isdigit() for w in words):  # the number asked for, or a new one instead of the one checked
            return self._use(pending.rule, end, said)
        if pending.kind == "confirm" and not pending.repeated and rule is None:
            self._pending = Pending("confirm", pending.rule, pending.number, pending.text, repeated=True)
            return Decision(text=f"Sorry? {_checking(pending.rule, pending.number)}", rule=pending.rule)
        return None

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
