"""How people say things: what the assistant's ears expect, and heard words made ready for the rules.

Two halves, one vocabulary:

* **Expecting.** The recogniser's language model is built from sentences: the rules' own phrases, the same
  phrases the way people wrap them ("hi, could you tell me …, please"), numbers said digit by digit or as
  people group them ("one two three", "one twenty three", "one hundred and five"), and everyday sentences
  with the words people use around them. Words outside this vocabulary come out as the nearest words in it,
  so it is broad enough that "do you sell shoes" does not come out as a rule's key words.
* **Reading.** :func:`normalise` turns recognised words into what the rules match on: lower case, no
  fillers ("um"), contractions spelled out ("what's" → "what is") and spoken numbers as digits;
  :func:`understand` gives the same words with whether each may be misheard (see :mod:`.numbers`).

English only, like the recogniser's model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from .everyday import SENTENCES as EVERYDAY
from .numbers import TEENS, TENS, Reading, read

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


def understand(text: str, confidence: Sequence[float] | None = None) -> Reading:
    """What the rules read in recognised ``text``: its words as :func:`normalise` gives them, with how sure
    each is (see :mod:`.numbers`). ``confidence``: the recogniser's probability for each of ``words(text)``.
    """
    said = words(text)
    measured = confidence is not None and len(confidence) == len(said)
    plain: list[str] = []
    sure: list[float] = []
    for k, word in enumerate(said):
        if word not in FILLERS:
            spelled = CONTRACTIONS.get(word, word).split()
            plain += spelled
            sure += [confidence[k] if measured else 1.0] * len(spelled)  # type: ignore[index]
    return read(plain, sure if measured else None)


def words_to_digits(text: str) -> str:
    """``text`` lower-cased, without punctuation, each run of spoken numbers written as digits.

    Digits said one by one join up ("one two three" → "123"), as do the groups people say ("one twenty
    three" → "123", "six oh two" → "602", "double five two" → "552"); tens combine with a unit ("twenty
    three" → "23") and "hundred" with what follows ("one hundred and five" → "105"). "oh" counts as zero only
    next to another number word, so "oh, hello" stays as it is. See :mod:`.numbers`.
    """
    return " ".join(read(words(text)).words)


def spoken_numbers() -> tuple[str, ...]:
    """Ways to say order-like numbers, for the language model: every pair of digits once in three-digit
    runs, longer runs, and the groupings people use ("four fifty six", "six oh two", "double five two",
    "one hundred and five", "twelve thirty four", "triple seven", "nine nought one").
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
    doubles = [f"double {units[k]} {units[(k * 4 + 2) % 9]}" for k in range(9)] + [
        f"{units[(k * 2 + 1) % 9]} double {units[k]}" for k in range(9)
    ]
    doubles += [f"triple {units[k]}" for k in range(9)] + [
        f"{units[(k * 5 + 2) % 9]} triple {units[k]}" for k in range(3)
    ]
    noughts = [f"{units[k * 2]} nought {units[(k * 3 + 1) % 9]}" for k in range(4)]
    hundreds += [f"{units[k % 9]} hundred and {_TEEN_WORDS[(k * 7) % 10]}" for k in range(9)]
    pairs = [f"{_TEEN_WORDS[k + 1]} {_TENS_WORDS[(k * 3) % 8]} {units[(k * 5 + 3) % 9]}" for k in range(8)]
    tens_units = [f"{t} {units[k]}" for k, t in enumerate(_TENS_WORDS)]
    single = [*DIGIT_WORDS, *_TEEN_WORDS, *_TENS_WORDS, *tens_units]
    return tuple(
        dict.fromkeys(
            [*runs, *longer, *grouped, *teens, *ohs, *doubles, *noughts, *hundreds, *pairs, *single]
        )
    )


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
