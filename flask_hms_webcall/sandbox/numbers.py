"""Spoken numbers read as digits, each with whether the reading can be trusted.

People say an order number many ways: digit by digit ("one two three"), with "oh", "zero" or "nought" for
0, "double five", in groups ("one twenty three", "twelve thirty four") and with hundreds ("three hundred and
twelve"). Each way becomes one word of digits. A reading can be wrong, and a wrong digit means a tool called
with a wrong argument, so each reading also says whether it is *sure*. It is not when the number is
incomplete ("three hundred and" with no number after it, a trailing "and"), when a word next to it is one
the recogniser makes of a number word it did not catch ("three hundred and two will" for "and twelve", "nine
know one"), when it ends on a round ten that may have lost its unit ("eight forty" for "eight forty seven"),
or when the recogniser was unsure of one of its words (a confidence below :data:`SURE_CONFIDENCE`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

UNITS = {
    "zero": 0, "oh": 0, "nought": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9,
}  # fmt: skip
TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
REPEATS = {"double": 2, "triple": 3}  # "double five" is "55"
# What the recogniser writes for a number word (or part of one) it did not catch: "two will" for "twelve",
# "know" for "nine" or "no", "to" for "two", "right" for "eight". Next to a number, such a word means the
# number may be missing a piece. "for" is left out: "six oh two for me" is what people say.
NUMBER_LIKE = frozenset(
    {"to", "too", "won", "will", "tell", "ate", "tree", "free", "fore", "sex", "nein", "know", "right",
     "alright", "what", "fine", "heaven", "hate", "teen"}
)  # fmt: skip
SURE_CONFIDENCE = 0.6  # a recognised word less likely than this (0..1) may be another word


@dataclass(frozen=True)
class Reading:
    """Heard words as the rules read them: each number as one word of digits, and per word whether it may
    be misheard (``sure``). ``measured``: the recogniser gave a confidence for each word."""

    words: tuple[str, ...]
    sure: tuple[bool, ...]
    measured: bool = False

    def numbers(self, start: int = 0) -> list[tuple[str, bool]]:
        """The numbers from word ``start`` on, in order: (digits, sure)."""
        return [(w, s) for w, s in zip(self.words[start:], self.sure[start:], strict=True) if w.isdigit()]


def _number_word(word: str) -> bool:
    return word in UNITS or word in TEENS or word in TENS or word.isdigit()


def _starts_number(ws: Sequence[str], i: int) -> bool:
    w = ws[i]
    if w == "oh":  # a zero only next to another number word: "oh, hello" stays as it is
        return any(0 <= j < len(ws) and ws[j] != "oh" and _number_word(ws[j]) for j in (i - 1, i + 1))
    if w in REPEATS:
        return i + 1 < len(ws) and ws[i + 1] in UNITS
    return _number_word(w)


def _below_hundred(ws: Sequence[str], i: int) -> tuple[int, int, bool]:
    """What follows "hundred" at ``i`` ("and five", "twenty three", "twelve"): its value, where it ends and
    whether it is complete (an "and" with no number after it is not: "three hundred and ... ")."""
    has_and = i < len(ws) and ws[i] == "and"
    j = i + 1 if has_and else i
    if j < len(ws) and ws[j] in TENS:
        if j + 1 < len(ws) and ws[j + 1] in UNITS and UNITS[ws[j + 1]] > 0:
            return TENS[ws[j]] + UNITS[ws[j + 1]], j + 2, True
        return TENS[ws[j]], j + 1, True
    if j < len(ws) and ws[j] in TEENS:
        return TEENS[ws[j]], j + 1, True
    if j < len(ws) and ws[j] in UNITS and UNITS[ws[j]] > 0:
        return UNITS[ws[j]], j + 1, True
    if j + 1 < len(ws) and ws[j] in UNITS and ws[j + 1] in UNITS and UNITS[ws[j + 1]] > 0:
        return UNITS[ws[j + 1]], j + 2, True  # "three hundred oh five"
    return 0, i, not has_and  # nothing of its own: "and" (if any) is a word again


def _run(ws: Sequence[str], i: int) -> tuple[str, int, bool]:
    """The number starting at ``i``: its digits, where it ends, and whether it may be incomplete."""
    groups: list[tuple[str, str]] = []  # (digits, how they were said)
    complete = True
    while i < len(ws):
        w = ws[i]
        if w in REPEATS:
            if i + 1 < len(ws) and ws[i + 1] in UNITS:
                groups.append((str(UNITS[ws[i + 1]]) * REPEATS[w], "repeat"))
                i += 2
                continue
            complete = False  # "five double" and then no digit
            break
        if w == "hundred":
            if not groups or groups[-1][1] not in ("unit", "teen") or groups[-1][0] == "0":
                break
            below, i, complete = _below_hundred(ws, i + 1)
            groups[-1] = (str(int(groups[-1][0]) * 100 + below), "hundred")
            if not complete:
                break
            continue
        if w in TENS:
            if i + 1 < len(ws) and ws[i + 1] in UNITS and UNITS[ws[i + 1]] > 0:
                groups.append((str(TENS[w] + UNITS[ws[i + 1]]), "tens"))
                i += 2
            else:
                groups.append((str(TENS[w]), "round"))
                i += 1
        elif w in TEENS:
            groups.append((str(TEENS[w]), "teen"))
            i += 1
        elif w in UNITS and (w != "oh" or _starts_number(ws, i)):
            groups.append((str(UNITS[w]), "unit"))
            i += 1
        elif w.isdigit():
            groups.append((w, "digits"))
            i += 1
        else:
            break
    if i < len(ws) and ws[i] == "and" and (i + 1 == len(ws) or ws[i + 1] in NUMBER_LIKE):
        complete = False  # "one two and": the rest was not heard
    if len(groups) > 1 and groups[-1][1] == "round":
        complete = False  # "eight forty": maybe "eight forty seven" with its last word lost
    return "".join(digits for digits, _ in groups), i, complete


def read(ws: Sequence[str], confidence: Sequence[float] | None = None) -> Reading:
    """``ws`` (plain lower-case words) with each spoken number as digits, and how sure each word is.

    ``confidence``, if given, is the recogniser's probability (0..1) for each word of ``ws``.
    """
    measured = confidence is not None and len(confidence) == len(ws)

    def confident(start: int, end: int) -> bool:
        return not measured or min(confidence[start:end]) >= SURE_CONFIDENCE  # type: ignore[index]

    out: list[str] = []
    sure: list[bool] = []
    i = 0
    while i < len(ws):
        if not _starts_number(ws, i):
            out.append(ws[i])
            sure.append(confident(i, i + 1))
            i += 1
            continue
        digits, end, complete = _run(ws, i)
        near = [ws[j] for j in (i - 1, end) if 0 <= j < len(ws)]
        out.append(digits)
        sure.append(complete and confident(i, end) and not any(w in NUMBER_LIKE for w in near))
        i = end
    return Reading(tuple(out), tuple(sure), measured)
