"""How people say things: what the assistant's ears expect, and heard words made ready for the rules.

Two halves, one vocabulary:

* **Expecting.** The recogniser's language model is built from sentences: the rules' own phrases, the same
  phrases the way people wrap them ("hi, could you tell me …, please"), numbers said digit by digit or as
  people group them ("one two three", "one twenty three", "one hundred and five"), and everyday sentences
  with the words people use around them. Words outside this vocabulary come out as the nearest words in it,
  so it is broad enough that "do you sell shoes" does not come out as a rule's key words.
* **Reading.** :func:`normalise` turns recognised words into what the rules match on: lower case, no
  fillers ("um"), contractions spelled out ("what's" → "what is") and spoken numbers as digits.

English only, like the recogniser's model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from .everyday import SENTENCES as EVERYDAY

UNITS = {
    "zero": 0, "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
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
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_TENS_WORDS = tuple(TENS)
_TEEN_WORDS = tuple(TEENS)

FILLERS = frozenset({"um", "uh", "er", "erm", "hmm", "mm", "ah"})
CONTRACTIONS = {
    "what's": "what is", "where's": "where is", "when's": "when is", "how's": "how is", "who's": "who is",
    "that's": "that is", "it's": "it is", "there's": "there is", "here's": "here is", "let's": "let us",
    "i'm": "i am", "i'd": "i would", "i'll": "i will", "i've": "i have", "you're": "you are",
    "we're": "we are", "they're": "they are", "can't": "cannot", "don't": "do not", "doesn't": "does not",
    "didn't": "did not", "isn't": "is not", "aren't": "are not", "won't": "will not", "haven't": "have not",
    "hasn't": "has not", "wasn't": "was not", "couldn't": "could not", "wouldn't": "would not",
}  # fmt: skip

# Around a request: how people open it, ask it and close it. Each rule phrase is heard with some of these.
OPENERS = (
    "hi", "hello", "hey", "hi there", "hello there", "good morning", "good afternoon", "yes", "yeah",
    "okay", "so", "well", "excuse me", "sorry", "alright", "right", "oh", "yes hello", "um", "uh",
)  # fmt: skip
ASKS = (
    "could you tell me", "can you tell me", "could you please tell me", "please tell me",
    "i would like to know", "i'd like to know", "i want to know", "i wanted to know", "do you know",
    "can you", "could you", "could you please", "can you please", "would you", "please", "i need",
    "i'd like", "i would like", "i want", "i'm calling about", "i am calling about",
    "i have a question about", "it's about", "i was wondering", "i need to know", "can i ask",
    "tell me", "i'd like to ask about", "what about", "and",
)  # fmt: skip
CLOSERS = (
    "please", "for me", "thanks", "thank you", "then", "now", "today", "please thank you",
    "right now", "again", "as well", "too",
)  # fmt: skip
EVERYDAY_WEIGHT = 2  # the everyday sentences count twice: they carry the words around the rules' words
PHRASE_WEIGHT = 3  # a rule's own phrase, said alone ("goodbye"), outweighs numbers said alone
BARE_NUMBER_EVERY = 24  # one spoken number in so many is said alone (answering "which order?")
NUMBER_LEADS = ("number", "it is", "it's", "the number is", "that is", "that's", "yes it is", "my number is")

_WORD = re.compile(r"[a-z0-9']+")


def words(text: str) -> list[str]:
    """The words of ``text``: lower case, punctuation dropped (apostrophes kept)."""
    return _WORD.findall(text.lower().replace("’", "'"))


def spell_out(text: str) -> str:
    """``text`` as plain words: lower case, no punctuation or fillers, contractions spelled out."""
    out: list[str] = []
    for word in words(text):
        if word not in FILLERS:
            out.append(CONTRACTIONS.get(word, word))
    return " ".join(out)


def normalise(text: str) -> str:
    """What the rules match on: :func:`spell_out`, then each run of spoken numbers as digits."""
    return words_to_digits(spell_out(text))


def _number_word(word: str) -> bool:
    return word in UNITS or word in TEENS or word in TENS or word.isdigit()


def _is_number(ws: Sequence[str], i: int) -> bool:
    w = ws[i]
    if w == "oh":  # a zero only next to another number word: "oh, hello" stays as it is
        return any(0 <= j < len(ws) and ws[j] != "oh" and _number_word(ws[j]) for j in (i - 1, i + 1))
    if w == "hundred":  # "one hundred", not "a hundred" or "hundreds"
        return i > 0 and ws[i - 1] in UNITS and UNITS[ws[i - 1]] > 0
    return _number_word(w)


def _below_hundred(ws: Sequence[str], i: int) -> tuple[int, int]:
    """What follows "hundred" at ``i`` ("and five", "twenty three", "twelve"): its value and where it ends."""
    j = i + 1 if i < len(ws) and ws[i] == "and" else i
    if j < len(ws) and ws[j] in TENS:
        if j + 1 < len(ws) and ws[j + 1] in UNITS and UNITS[ws[j + 1]] > 0:
            return TENS[ws[j]] + UNITS[ws[j + 1]], j + 2
        return TENS[ws[j]], j + 1
    if j < len(ws) and ws[j] in TEENS:
        return TEENS[ws[j]], j + 1
    if j < len(ws) and ws[j] in UNITS and ws[j] != "oh":
        return UNITS[ws[j]], j + 1
    return 0, i  # nothing of its own: "and" (if any) is a word again


def words_to_digits(text: str) -> str:
    """``text`` lower-cased, without punctuation, each run of spoken numbers written as digits.

    Digits said one by one join up ("one two three" → "123"), as do the groups people say ("one twenty
    three" → "123", "six oh two" → "602"); tens combine with a unit ("twenty three" → "23") and "hundred"
    with what follows ("one hundred and five" → "105"). "oh" counts as zero only next to another number
    word, so "oh, hello" stays as it is.
    """
    ws = words(text)
    out: list[str] = []
    run: list[str] = []
    i = 0
    while i < len(ws):
        w = ws[i]
        if not _is_number(ws, i):
            if run:
                out.append("".join(run))
                run = []
            out.append(w)
            i += 1
        elif w == "hundred":
            below, i = _below_hundred(ws, i + 1)
            run[-1] = str(int(run[-1]) * 100 + below)
        elif w in TENS:
            value = TENS[w]
            if i + 1 < len(ws) and ws[i + 1] in UNITS and UNITS[ws[i + 1]] > 0:
                value += UNITS[ws[i + 1]]
                i += 1
            run.append(str(value))
            i += 1
        else:
            run.append(w if w.isdigit() else str(TEENS.get(w, UNITS.get(w, 0))))
            i += 1
    if run:
        out.append("".join(run))
    return " ".join(out)


def spoken_numbers() -> tuple[str, ...]:
    """Ways to say order-like numbers, for the language model: every pair of digits once in three-digit
    runs, longer runs, and the groupings people use ("four fifty six", "six oh two", "one hundred and five").
    """
    runs = [" ".join(DIGIT_WORDS[(a + k * b) % 10] for k in range(3)) for a in range(10) for b in range(10)]
    longer = [
        " ".join(DIGIT_WORDS[(a * 7 + k * 3) % 10] for k in range(n)) for a in range(10) for n in (4, 5, 6)
    ]
    units = DIGIT_WORDS[1:]
    grouped = [f"{units[k % 9]} {_TENS_WORDS[k % 8]} {units[(k * 5 + 2) % 9]}" for k in range(36)] + [
        f"{units[k % 9]} {_TENS_WORDS[(k + 3) % 8]}" for k in range(16)
    ]
    teens = [f"{units[k % 9]} {_TEEN_WORDS[(k * 3) % 10]}" for k in range(10)]
    ohs = [f"{units[k % 9]} oh {units[(k * 4 + 1) % 9]}" for k in range(12)]
    hundreds = (
        [f"{units[k % 9]} hundred" for k in range(9)]
        + [f"{units[k % 9]} hundred and {units[(k * 2 + 4) % 9]}" for k in range(9)]
        + [f"{units[k % 9]} hundred {_TENS_WORDS[k % 8]} {units[(k + 2) % 9]}" for k in range(9)]
    )
    tens_units = [f"{t} {units[k]}" for k, t in enumerate(_TENS_WORDS)]
    single = [*DIGIT_WORDS, *_TEEN_WORDS, *_TENS_WORDS, *tens_units]
    return tuple(dict.fromkeys([*runs, *longer, *grouped, *teens, *ohs, *hundreds, *single]))


def wrapped(phrase: str, seed: int, count: int) -> list[str]:
    """``phrase`` said ``count`` ways: after an opener, an ask, before a closer (varied by ``seed``)."""
    out = []
    for k in range(count):
        n = seed * 7 + k * 13
        opener = OPENERS[n % len(OPENERS)] if k % 3 != 2 else ""
        ask = ASKS[(n + k) % len(ASKS)] if k % 4 != 3 else ""
        closer = CLOSERS[(n * 3 + k) % len(CLOSERS)] if k % 2 else ""
        out.append(" ".join(part for part in (opener, ask, phrase, closer) if part))
    return out


def sentences(phrases: Iterable[str], number_leads: Iterable[str] = ()) -> tuple[str, ...]:
    """The language model's corpus for an assistant listening for ``phrases`` (its rules' phrases and
    examples), where a number may follow any of ``number_leads`` (the phrases of rules that take one).
    """
    lines: list[str] = []
    for seed, phrase in enumerate(dict.fromkeys(" ".join(words(p)) for p in phrases)):
        if phrase:
            lines += [phrase] * PHRASE_WEIGHT + wrapped(phrase, seed, 6)
    leads = [" ".join(words(lead)) for lead in number_leads]
    leads = [lead for lead in dict.fromkeys(leads) if lead]
    if leads:
        numbers = spoken_numbers()
        tails = ("", "please", "", "thanks", "", "for me", "")
        for k, number in enumerate(numbers):
            lead = leads[k % len(leads)]
            lines.append(" ".join(p for p in (lead, number, tails[k % len(tails)]) if p))
            if k % 4 == 0:
                lines.append(f"{NUMBER_LEADS[k // 4 % len(NUMBER_LEADS)]} {number}")
            if k % BARE_NUMBER_EVERY == 0:
                lines.append(number)
    lines += EVERYDAY * EVERYDAY_WEIGHT
    return tuple(lines)
