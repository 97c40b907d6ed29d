"""The sandbox assistant's mouth (eSpeak NG), ears (PocketSphinx) and brain (rules), without a network."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from flask_hms_webcall.sandbox.brain import DEFAULT_RULES, Brain, parse_rules, rules_error
from flask_hms_webcall.sandbox.calls import Call
from flask_hms_webcall.sandbox.language import normalise, words_to_digits
from flask_hms_webcall.sandbox.media import espeak, recognizer
from flask_hms_webcall.sandbox.media.audio import FRAME_SAMPLES, SAMPLE_RATE
from flask_hms_webcall.sandbox.media.ears import SpeechEars
from flask_hms_webcall.sandbox.webhooks import ToolAnswer, build_payload, parse_tool_reply
from tests.conftest import require
from tests.sandbox.test_ears import listen

QUESTION = "What is the status of order one two three?"


@pytest.fixture(scope="module")
def speech():
    require(espeak.available(), "espeakng-loader is not installed (pip install -e .[sandbox-speech])")
    require(recognizer.available(), "pocketsphinx is not installed (pip install -e .[sandbox-speech])")


@pytest.fixture(scope="module")
def brain() -> Brain:
    return Brain(parse_rules(DEFAULT_RULES))


def padded(pcm: np.ndarray, seconds: float = 0.5) -> np.ndarray:
    quiet = np.zeros(int(seconds * SAMPLE_RATE), dtype=np.int16)
    return np.concatenate([quiet, pcm, quiet])


# --- mouth ------------------------------------------------------------------------------------------


def test_espeak_says_a_line_in_about_the_time_a_person_would(speech):
    plan = espeak.synthesize(QUESTION)
    assert plan.text == QUESTION
    assert 1.5 <= plan.duration <= 5.0  # nine words at an unhurried pace
    assert len(plan.pcm) == pytest.approx(plan.duration * SAMPLE_RATE, abs=1)
    loud = np.abs(plan.pcm.astype(np.int32)).max()
    assert loud > 3000, "the audio is not speech-loud"
    starts = [w.start for w in plan.words]
    assert starts == sorted(starts) and starts[0] == 0 and starts[-1] > 1.0
    assert starts[-1] < plan.duration


def test_espeak_speaks_dutch_too_and_falls_back_to_english_for_an_unknown_voice(speech):
    dutch = espeak.synthesize("Goedemiddag, waarmee kan ik u helpen?", ["nl"])
    english = espeak.synthesize("Goedemiddag, waarmee kan ik u helpen?", ["en"])
    assert dutch.duration > 1.0 and english.duration > 1.0
    assert not np.array_equal(dutch.pcm, english.pcm), "the Dutch voice sounds exactly like the English one"
    fallback = espeak.synthesize("Hello there.", ["elevenlabs-voice-id-that-espeak-lacks"])
    assert fallback.duration > 0.5 and np.abs(fallback.pcm).max() > 3000


def test_a_seeded_breathy_voice_sounds_the_same_in_every_run(speech):
    # The female variant's breath noise is random: the benchmark seeds it so its figures repeat.
    script = (
        "import hashlib; from flask_hms_webcall.sandbox.media import espeak; espeak.seed(5); "
        "print(hashlib.sha256(espeak.synthesize('Okay, bye.', ['en-us+f3']).pcm.tobytes()).hexdigest())"
    )
    runs = set()
    for _ in range(2):  # a second apart: unseeded, eSpeak NG takes its seed from the clock's seconds
        runs.add(
            subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
        )
        time.sleep(1.1)
    assert len(runs) == 1 and len(runs.pop()) == 65


# --- ears -------------------------------------------------------------------------------------------


def test_the_recogniser_hears_an_espeak_question_about_an_order(speech, brain):
    pcm = padded(espeak.synthesize(QUESTION).pcm)
    heard = recognizer.recognize(pcm, SAMPLE_RATE, brain.phrases())
    assert "order" in heard.split()
    assert "one two three" in heard


def test_speech_ears_give_interim_words_then_the_final_sentence(speech, brain):
    ears = SpeechEars(brain.phrases())
    pcm = padded(espeak.synthesize("What are your opening hours?").pcm, 1.0)
    heard = []
    for offset in range(0, len(pcm), FRAME_SAMPLES):
        heard += ears.feed(pcm[offset : offset + FRAME_SAMPLES], SAMPLE_RATE)
    finals = [h for h in heard if h.final]
    assert len(finals) == 1, heard
    assert heard[-1] is finals[0] and heard[0].final is False
    assert finals[0].text == "what are your opening hours"
    assert brain.decide(finals[0].words).text.startswith("We are open")
    assert finals[0].alternatives == ears.recognizer.alternatives()  # the next best readings, for the rules


REWORDED = "Hi, could you tell me where my order one twenty three is?"


def test_the_recogniser_understands_a_reworded_question_with_the_number_grouped(speech, brain):
    pcm = padded(espeak.synthesize(REWORDED).pcm)
    heard = recognizer.recognize(pcm, SAMPLE_RATE, brain.phrases())
    decision = brain.decide(heard)
    assert decision.tool == "lookup_order" and decision.arguments == {"order_id": "123"}, heard


@pytest.mark.parametrize(
    ("said", "words", "order"),
    [("Can you check order triple two?", "triple two", "222"), ("Order four nought six.", "nought", "406")],
)
def test_a_number_said_with_triple_or_nought_is_heard(speech, brain, said, words, order):
    # Both are ways people say numbers that the rules read ("triple two" is 222, "nought" is 0): the ears
    # must know the words (PocketSphinx's dictionary spells "nought" only as "naught"). Heard as in a call:
    # by ears that have heard a sentence before (the warm-up).
    ears = SpeechEars(brain.phrases())
    finals = [h for h in listen(ears, padded(espeak.synthesize(said).pcm, 1.0)) if h.final]
    heard = finals[0].words
    assert words in heard
    decision = brain.decide(heard)
    checked = f"Order {order}, is that right?" in decision.text
    assert decision.arguments == {"order_id": order} or checked, heard


@pytest.mark.parametrize(
    ("said", "reply"),
    [
        ("Bye for now.", "Goodbye"),
        ("Great, thanks.", "welcome"),
    ],
)
def test_a_clean_voice_over_digital_silence_is_heard(speech, brain, said, reply):
    # A synthetic voice (or a browser's noise suppression) leaves perfect silence between the words, which
    # the acoustic model never heard in training: the ears lay a faint noise floor under it.
    heard = recognizer.recognize(padded(espeak.synthesize(said).pcm), SAMPLE_RATE, brain.phrases())
    assert reply in brain.decide(heard).text, heard


def test_the_pitch_of_a_voice_is_measured_on_its_voiced_frames_only():
    t = np.arange(recognizer.MODEL_RATE) / recognizer.MODEL_RATE
    voice = sum(np.sin(2 * np.pi * 220 * k * t) / k for k in range(1, 12))  # a vowel's harmonics at 220 Hz
    pitches = recognizer.voiced_pitches((voice * 4000).astype(np.int16))
    assert len(pitches) >= 40 and np.median(pitches) == pytest.approx(220, rel=0.03)
    hiss = np.random.default_rng(1).standard_normal(recognizer.MODEL_RATE) * 3000
    assert len(recognizer.voiced_pitches(hiss.astype(np.int16))) < 5  # a fricative or noise has no pitch
    quiet = (voice * 50).astype(np.int16)
    assert len(recognizer.voiced_pitches(quiet)) == 0


@pytest.mark.parametrize(
    ("voice", "warp"), [("en-us", 1.0), ("en-gb", 1.0), ("en-us+f3", recognizer.HIGH_VOICE_WARP)]
)
def test_a_high_voice_is_heard_with_its_formants_warped_from_its_first_turn(speech, brain, voice, warp):
    espeak.seed(3)
    pcm = padded(espeak.synthesize("Could you tell me your opening hours, please?", [voice]).pcm)
    ears = recognizer.Recognizer(brain.phrases())
    passes = []  # (audio samples decoded, the warp the decoder had then) per pass over a turn
    decoder = ears._decoder

    class Spy:
        def __getattr__(self, name):
            return getattr(decoder, name)

        def start_utt(self):
            passes.append([0, decoder.config["warp_params"]])
            decoder.start_utt()

        def process_raw(self, data, no_search, full_utt):
            passes[-1][0] += len(data) // 2
            decoder.process_raw(data, no_search, full_utt)

    ears._decoder = Spy()
    ears.start()
    ears.feed(pcm, SAMPLE_RATE)
    ears.finish()
    assert ears.warp == warp
    turn = len(recognizer.to_model_rate(pcm, SAMPLE_RATE))
    if warp == 1.0:
        assert len(passes) == 1
    else:  # the turn that told the voice apart is decoded again, whole, with the warp
        assert len(passes) == 2 and passes[1] == [turn, f"{warp:g}"], passes


def test_the_recogniser_gives_its_next_best_readings_of_a_turn_and_never_the_words_again(speech, brain):
    espeak.seed(3)
    pcm = padded(espeak.synthesize("Could you tell me your opening hours, please?", ["en-us"]).pcm)
    ears = recognizer.Recognizer(brain.phrases())
    ears.start()
    ears.feed(pcm, SAMPLE_RATE)
    heard = ears.finish()
    others = ears.alternatives()
    assert 0 < len(others) <= recognizer.ALTERNATIVES and heard not in others, (heard, others)
    assert all(text and text == text.strip() and "opening hours" in text for text in others), others
    assert ears.finish() == "" and ears.alternatives() == ()  # that turn is over: no readings are left over


def test_a_turn_the_recogniser_found_nothing_in_ends_with_no_words(speech, brain):
    # PocketSphinx has no hypothesis at all for a turn whose audio never reached it (a frame the level floor
    # kept nothing of): the turn must still end, with no words and no confidence, not raise.
    ears = recognizer.Recognizer(brain.phrases())
    ears.start()
    assert ears.finish() == "" and ears.confidence() == () and ears.alternatives() == ()
    ears.feed(np.zeros(SAMPLE_RATE // 50, dtype=np.int16), SAMPLE_RATE)
    assert ears.finish() == "" and ears.confidence() == () and ears.alternatives() == ()


def test_a_killed_sandbox_leaves_no_model_files_behind(speech, tmp_path):
    script = (
        "import os, signal; from flask_hms_webcall.sandbox.brain import DEFAULT_RULES, Brain, parse_rules; "
        "from flask_hms_webcall.sandbox.media.recognizer import Recognizer; "
        "Recognizer(Brain(parse_rules(DEFAULT_RULES)).phrases()); print('built', flush=True); "
        "os.kill(os.getpid(), signal.SIGKILL)"
    )
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert done.stdout == "built\n" and done.returncode == -signal.SIGKILL, done.stderr
    assert list(tmp_path.iterdir()) == []


def test_silence_and_room_noise_give_no_words(speech, brain):
    rng = np.random.default_rng(7)
    ears = SpeechEars(brain.phrases())
    quiet = np.zeros(3 * SAMPLE_RATE, dtype=np.int16)
    hiss = (rng.standard_normal(3 * SAMPLE_RATE) * 32767 * 10 ** (-45 / 20)).astype(np.int16)
    heard = []
    for pcm in (quiet, hiss):
        for offset in range(0, len(pcm), FRAME_SAMPLES):
            heard += ears.feed(pcm[offset : offset + FRAME_SAMPLES], SAMPLE_RATE)
    assert [h.words for h in heard if h.words] == []


# --- brain ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "written"),
    [
        ("order one two three", "order 123"),
        ("Order ONE, two; three!", "order 123"),
        ("zero oh seven", "007"),
        ("oh hello", "oh hello"),
        ("twenty three", "23"),
        ("forty", "40"),
        ("twelve", "12"),
        ("one two and three", "12 and 3"),
        ("nothing here", "nothing here"),
        ("one twenty three", "123"),
        ("four fifty six", "456"),
        ("six oh two for me", "602 for me"),
        ("one hundred and five", "105"),
        ("one hundred twenty three", "123"),
        ("a hundred people", "a hundred people"),
    ],
)
def test_number_words_become_digits(said, written):
    assert words_to_digits(said) == written


def test_heard_words_are_normalised_before_the_rules_see_them():
    assert normalise("Um, what's the status of order one twenty three?") == "what is the status of order 123"
    assert normalise("That's all, uh, thanks") == "that is all thanks"


@pytest.mark.parametrize(
    "said",
    [
        "hi could you tell me where my order one twenty three is",
        "please check order one two three",
        "what's the status of the order one two three please",
        "hi two the status of order one two three",  # a stray number before the key word is not the slot
        "uh i'm calling about my package one hundred twenty three",
    ],
)
def test_people_ask_for_an_order_in_their_own_words(said):
    decision = Brain(parse_rules(DEFAULT_RULES)).decide(said)
    assert decision.tool == "lookup_order" and decision.arguments == {"order_id": "123"}


def test_a_number_said_after_the_assistant_asked_for_it_completes_the_tool_call():
    brain = Brain(parse_rules(DEFAULT_RULES))
    assert brain.decide("where is my order").tool is None
    decision = brain.decide("it's one two three")
    assert decision.tool == "lookup_order" and decision.arguments == {"order_id": "123"}
    assert brain.decide("one two three").text == brain.fallback  # only right after the question


@pytest.mark.parametrize(
    "misheard",
    [
        "hello i am calling about order three one alright",  # "three one four", its last digit lost
        "what's the status of order number seventy nine please",  # "seven eight nine" run together
        "can you look up order six oh two four me",  # "for me" heard as a digit
    ],
)
def test_an_order_number_of_the_wrong_length_is_asked_again_not_looked_up(misheard):
    brain = Brain(parse_rules(DEFAULT_RULES))
    decision = brain.decide(misheard)
    assert decision.tool is None and "number" in decision.text
    again = brain.decide("six oh two")
    assert again.tool == "lookup_order" and again.arguments == {"order_id": "602"}


def test_a_rule_without_digits_takes_a_number_of_any_length():
    rules = [{"when": ["ticket"], "tool": "lookup_ticket", "arguments": {"id": "{number}"}}]
    decision = Brain(parse_rules(rules)).decide("ticket four two")
    assert decision.arguments == {"id": "42"}
    bad = {"llm_config": {"rules": [{**rules[0], "digits": "three"}]}}
    assert rules_error(bad) == "llm_config.rules[0].digits must be a positive whole number"


def test_phrases_match_whatever_the_contractions_and_plurals():
    brain = Brain(parse_rules(DEFAULT_RULES))
    assert brain.decide("ok that's all").hang_up
    assert brain.decide("when are you opening").text == brain.fallback  # whole words: "opening" is not "open"
    assert brain.decide("what hours do you keep").text.startswith("We are open")
    assert brain.decide("when the shop opens tomorrow").text.startswith("We are open")  # "opens": "open"
    assert brain.decide("are there any humans").text.startswith("I am the sandbox assistant")  # plural


def test_rules_pick_reply_tool_or_goodbye(brain):
    hours = brain.decide("what are your opening hours")
    assert hours.tool is None and hours.text.startswith("We are open") and not hours.hang_up

    order = brain.decide("what is the status of order one two three")
    assert order.tool == "lookup_order" and order.arguments == {"order_id": "123"}

    bye = brain.decide("that's all thank you bye")
    assert bye.hang_up and "Goodbye" in bye.text

    assert brain.decide("").text == brain.fallback
    assert brain.decide("the weather is lovely").text == brain.fallback


def test_an_order_without_a_number_is_asked_for_not_looked_up(brain):
    decision = brain.decide("where is my order")
    assert decision.tool is None and "number" in decision.text


def test_a_tool_result_is_read_out_through_the_rules_template(brain):
    decision = brain.decide("order four five six")
    assert (
        brain.answer(decision, {"order_id": "456", "status": "being packed"}) == "Order 456 is being packed."
    )
    # A text answer is said as it is; an object the template does not fit is read out field by field.
    assert brain.answer(decision, "I could not find order 456.") == "I could not find order 456."
    assert brain.answer(decision, {"state": "lost"}) == "state: lost."
    assert "lookup order" in brain.failed(decision)


def test_an_assistant_brings_its_own_rules_and_bad_ones_are_reported():
    own = Brain.from_assistant(
        {"llm_config": {"rules": [{"when": ["price"], "say": "It is free."}], "fallback": "Pardon?"}}
    )
    assert own.decide("what is the price").text == "It is free."
    assert own.decide("hello").text == "Pardon?"
    assert rules_error({"llm_config": {"rules": [{"when": [], "say": "x"}]}}) == (
        "llm_config.rules[0].when must be a non-empty list of phrases"
    )
    assert rules_error({"llm_config": {"rules": [{"when": ["x"]}]}}) == (
        "llm_config.rules[0] needs a 'say' line or a 'tool'"
    )
    # A transient assistant's broken rules fall back to the defaults instead of breaking the call.
    assert Brain.from_assistant({"llm_config": {"rules": "nope"}}).decide("goodbye").hang_up


# --- tool calls on the wire --------------------------------------------------------------------------


TWO_RESULTS = {"results": [{"tool_call_id": "x", "result": "no"}, {"tool_call_id": "c1", "result": "ja"}]}


@pytest.mark.parametrize(
    ("reply", "ok", "result"),
    [
        (TWO_RESULTS, True, "ja"),
        ({"results": [{"tool_call_id": "c1", "result": '{"status": "sent"}'}]}, True, {"status": "sent"}),
        ({"result": "fine"}, True, "fine"),
        ({"status": "raw object"}, True, {"status": "raw object"}),
        ({"error": "database down"}, False, None),
        ({"results": []}, False, None),
    ],
)  # fmt: skip
def test_every_documented_tool_reply_shape_is_understood(reply, ok, result):
    answer = parse_tool_reply(json.dumps(reply), "c1")
    assert answer.ok is ok
    assert answer.result == result


def test_a_plain_text_tool_reply_is_the_result_and_an_empty_one_a_failure():
    assert parse_tool_reply("Order 123 is shipped.", "c1") == ToolAnswer(
        ok=True, result="Order 123 is shipped."
    )
    assert parse_tool_reply("  ", "c1") == ToolAnswer(ok=False, error="empty reply")


def test_the_report_carries_the_tool_call_and_its_result():
    call = Call(call_id="c", room_name="r", identity="u", assistant={})
    call.add_transcript("user", "order one two three")
    function = {"name": "lookup_order", "arguments": {"order_id": "123"}}
    call.add_message(
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "t1", "type": "function", "function": function}],
        }
    )
    call.add_message({"role": "tool", "tool_call_id": "t1", "name": "lookup_order", "content": "shipped"})
    call.add_transcript("assistant", "Order 123 is shipped.")
    call.status, call.ended_reason = "ended", "agent_hangup"
    message = build_payload(call, "end-of-call-report")["message"]
    assert message["messages"][1]["tool_calls"][0]["function"] == function
    assert message["messages"][2] == {
        "role": "tool",
        "tool_call_id": "t1",
        "name": "lookup_order",
        "content": "shipped",
    }
    assert message["transcript"][1] == 'assistant: [tool call] lookup_order({"order_id": "123"})'
    assert "the assistant 1 time(s)" in message["summary"]


# --- without the speech packages -----------------------------------------------------------------------


def test_without_the_speech_packages_nothing_breaks_and_the_assistant_uses_tones_and_the_script():
    # A fresh interpreter where both packages fail to import, as with only the [sandbox] extra installed.
    code = """
import sys
sys.modules["espeakng_loader"] = None
sys.modules["pocketsphinx"] = None
from flask_hms_webcall.sandbox.calls import Call
from flask_hms_webcall.sandbox.config import Script
from flask_hms_webcall.sandbox.media import espeak, recognizer
from flask_hms_webcall.sandbox.media.assistant import ScriptedAssistant
from flask_hms_webcall.sandbox.media.audio import plan_speech
from flask_hms_webcall.sandbox.media.ears import EnergyEars
assert not espeak.available() and not recognizer.available()
assert espeak.synthesize("Hello there.") is None
call = Call(call_id="c", room_name="r", identity="u", assistant={})
a = ScriptedAssistant(call=call, script=None, agent=None, voice=None, link=None, hang_up=lambda: None,
                      present=True, join_delay=0)
assert a.script == Script() and isinstance(a.ears, EnergyEars)
assert a.speech_for("Hello there.").duration == plan_speech("Hello there.").duration
print("fallback ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "fallback ok"


@pytest.mark.parametrize(
    ("blocked", "says"),
    [
        (["pocketsphinx"], "speaks with eSpeak NG and cannot understand words"),
        (["espeakng_loader"], "speaks in tones (eSpeak NG is missing) and understands words"),
        (["pocketsphinx", "espeakng_loader"], "speaks in tones (eSpeak NG is missing) and cannot understand"),
    ],
)
def test_a_partial_speech_stack_says_so_at_start_in_one_line_naming_the_extra(speech, blocked, says):
    code = f"""
import logging, sys
for name in {blocked!r}:
    sys.modules[name] = None
logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
from flask_hms_webcall.sandbox.config import SandboxConfig
from flask_hms_webcall.sandbox.server import _log_speech
_log_speech(SandboxConfig())
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.strip().splitlines()
    assert says in line and "[sandbox-speech]" in line, line
