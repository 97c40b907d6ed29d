"""The sandbox assistant's brain on what people actually say: numbers said their ways, asking back when a
number may be misheard, and hanging up only on a goodbye the visitor means. Words only, no audio (the
recogniser's side is in test_speech.py)."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import sys
from pathlib import Path

import pytest

from flask_hms_webcall.sandbox.brain import DEFAULT_RULES, Brain, parse_rules, rules_error
from flask_hms_webcall.sandbox.calls import Call
from flask_hms_webcall.sandbox.media import assistant as media_assistant
from flask_hms_webcall.sandbox.media.ears import Heard
from flask_hms_webcall.sandbox.webhooks import ToolAnswer
from tests.sandbox.test_media_protocol import run  # a fresh loop in its own thread

PHRASING = Path(__file__).parents[2] / "benchmarks" / "data" / "rule_phrasing.json"


def fresh() -> Brain:
    return Brain(parse_rules(DEFAULT_RULES))


def looked_up(decision) -> str | None:
    """The order number the decision looks up, or None if it calls no tool."""
    assert decision.tool in (None, "lookup_order")
    return decision.arguments["order_id"] if decision.tool else None


# --- numbers said the ways people say them -----------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "order_id"),
    [
        ("order three hundred and twelve", "312"),
        ("order three hundred twelve please", "312"),
        ("order three twelve", "312"),
        ("can you check order nine oh one", "901"),
        ("order nine zero one", "901"),
        ("order nine nought one", "901"),
        ("my order number is eight four seven", "847"),
        ("my order, it's one two three", "123"),
        ("order number one, um, two, uh, three", "123"),
        ("order double five two", "552"),
        ("order five double two", "522"),
        ("order triple seven", "777"),
        ("order double oh seven", "007"),
        ("order three hundred oh five", "305"),
        ("where is parcel six hundred and forty two", "642"),
        ("order four fifty six", "456"),
    ],
)
def test_an_order_number_said_any_usual_way_is_looked_up(said, order_id):
    assert looked_up(fresh().decide(said)) == order_id


def test_grouped_numbers_join_up_for_a_rule_of_any_length():
    rules = [{"when": ["ticket"], "tool": "lookup_ticket", "arguments": {"id": "{number}"}}]
    brain = Brain(parse_rules(rules))
    assert brain.decide("ticket twelve thirty four").arguments == {"id": "1234"}
    assert brain.decide("ticket double nine double one").arguments == {"id": "9911"}


def test_a_rules_also_phrases_trigger_it_without_weighing_on_the_ears():
    rules = [
        {"when": ["ticket"], "also": ["docket"], "tool": "lookup_ticket", "arguments": {"id": "{number}"},
         "confirm": "Ticket {number}? Yes or no?"},
    ]  # fmt: skip
    brain = Brain(parse_rules(rules))
    assert brain.decide("my docket four two").arguments == {"id": "42"}
    assert brain.decide("ticket three hundred and").text == "Ticket 300? Yes or no?"
    expected = " ".join(brain.phrases())
    assert "ticket" in expected.split() and "docket" not in expected.split()
    assert rules_error({"llm_config": {"rules": [{**rules[0], "also": "docket"}]}}) == (
        "llm_config.rules[0].also must be a list of phrases"
    )


# --- a number that may be misheard is checked, not guessed -------------------------------------------


@pytest.mark.parametrize(
    ("heard", "checked"),
    [
        ("order three hundred and", "300"),  # the rest of it was not heard
        ("order three hundred and something please", "300"),
        ("order three hundred and will please", "300"),  # "and twelve", heard by the ears as "and will"
        ("order three hundred and two will please", "302"),  # "and twelve" split into "two will"
        ("order three hundred five to a please", "305"),  # "to" next to it: a digit may be missing
        ("my order is eight forty", "840"),  # "eight forty seven" with its last word lost
        ("order one two three or four five six", "123"),  # two numbers: which one?
    ],
)
def test_a_number_that_may_be_misheard_is_asked_back_not_looked_up(heard, checked):
    brain = fresh()
    decision = brain.decide(heard)
    assert decision.tool is None and not decision.hang_up
    assert decision.text == f"Order {checked}, is that right?"


@pytest.mark.parametrize("heard", ["order one two and", "order five double", "order nine know one"])
def test_an_incomplete_number_of_too_few_digits_is_asked_for_again(heard):
    decision = fresh().decide(heard)
    assert decision.tool is None and decision.text.startswith("Which order?")


def test_the_recognisers_confidence_makes_a_number_doubtful_when_given():
    heard = "order one two three"
    assert looked_up(fresh().decide(heard, confidence=[0.9, 0.95, 0.9, 0.9])) == "123"
    unsure = fresh().decide(heard, confidence=[0.9, 0.95, 0.3, 0.9])  # "two" barely heard
    assert unsure.tool is None and unsure.text == "Order 123, is that right?"
    assert looked_up(fresh().decide(heard, confidence=[0.1])) == "123"  # not one per word: not used


# --- the ask-back turn --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    ["yes", "yeah that's right", "correct", "yes please go ahead", "yes three hundred", "yep check it"],
)
def test_yes_to_the_check_looks_up_the_number_checked(answer):
    brain = fresh()
    assert brain.decide("order three hundred and will").tool is None
    assert looked_up(brain.decide(answer)) == "300"


def test_no_to_the_check_asks_for_the_number_and_the_next_one_is_looked_up():
    brain = fresh()
    brain.decide("order three hundred and will")
    again = brain.decide("no")
    assert again.tool is None and again.text.startswith("Which order?")
    assert looked_up(brain.decide("three one two")) == "312"


@pytest.mark.parametrize("answer", ["no, three one two", "no it's three hundred and twelve", "three one two"])
def test_a_new_number_instead_of_yes_is_taken(answer):
    brain = fresh()
    brain.decide("order three hundred and will")
    assert looked_up(brain.decide(answer)) == "312"


def test_a_new_number_that_may_be_misheard_too_is_checked_again():
    brain = fresh()
    brain.decide("order three hundred and will")
    decision = brain.decide("no three hundred and two will")
    assert decision.tool is None and decision.text == "Order 302, is that right?"
    assert looked_up(brain.decide("yes")) == "302"


def test_an_unclear_answer_gets_the_question_once_more_then_the_call_moves_on():
    brain = fresh()
    brain.decide("order three hundred and will")
    assert brain.decide("").text == "Sorry? Order 300, is that right?"
    assert brain.decide("").text == brain.fallback
    assert brain.decide("yes").tool is None  # the question is no longer open


def test_another_question_instead_of_an_answer_is_answered_and_the_check_dropped():
    brain = fresh()
    brain.decide("order three hundred and will")
    hours = brain.decide("what are your opening hours on the twenty second")  # its number is no answer
    assert hours.tool is None and hours.text.startswith("We are open")
    assert brain.decide("yes").tool is None


# --- the recogniser's next best readings ---------------------------------------------------------------
# What the ears gave for eSpeak voices in the benchmark: the words name no rule, or lack the number.


def test_words_that_name_no_rule_take_the_rule_a_third_of_the_next_readings_name():
    alternatives = [
        "is there a present i can speak to a",
        "is there a person i can speak to",
        "is there a present i can speak",
        "is there a person i can speak to a",
    ]
    assert fresh().decide("is there a present i can speak to").text == fresh().fallback
    decision = fresh().decide("is there a present i can speak to", alternatives=alternatives)
    assert decision.rule is not None and decision.text.startswith("I am the sandbox assistant")


def test_a_rule_fewer_than_a_third_of_the_next_readings_name_is_not_taken():
    alternatives = ["do you sell shoe", "do use a shoes", "do you sell shoes please", "do you tell hours"]
    decision = fresh().decide("do you sell shoes", alternatives=alternatives)
    assert decision.rule is None and decision.text == fresh().fallback


def test_on_a_tie_the_rule_of_the_best_ranked_reading_is_taken():
    alternatives = ["what are your hours", "is there a person", "what time"]
    assert fresh().decide("what are you", alternatives=alternatives).text.startswith("We are open")
    alternatives = ["is there a person", "what are your hours", "what time"]
    assert fresh().decide("what are you", alternatives=alternatives).text.startswith("I am the sandbox")


def test_a_number_only_a_next_reading_has_is_checked_never_looked_up():
    heard = "it's about my order one four going"  # "one four nine": no order number of three digits
    assert fresh().decide(heard).text.startswith("Which order?")
    brain = fresh()
    alternatives = ["it's about my order one for going", "it's about my order one four nine"]
    decision = brain.decide(heard, alternatives=alternatives)
    assert decision.tool is None and decision.text == "Order 149, is that right?"
    assert looked_up(brain.decide("yes")) == "149"


def test_the_number_asked_for_may_come_from_a_next_reading_and_is_checked():
    brain = fresh()
    assert brain.decide("where is my order").text.startswith("Which order?")
    decision = brain.decide("six one going", alternatives=["six what going", "six one nine"])
    assert decision.tool is None and decision.text == "Order 619, is that right?"
    assert looked_up(brain.decide("yes")) == "619"


def test_a_next_reading_of_another_rule_gives_no_number():
    brain = fresh()
    decision = brain.decide("my order is late", alternatives=["my order is eight", "hours one two three"])
    assert decision.text.startswith("Which order?")
    assert looked_up(brain.decide("four five six")) == "456"  # the question for the number still stands


def test_words_that_name_a_rule_are_not_overruled_by_the_next_readings():
    decision = fresh().decide("what are your opening hours", alternatives=["bye", "goodbye", "bye bye"])
    assert decision.text.startswith("We are open") and not decision.hang_up


def test_a_goodbye_only_the_next_readings_hold_is_asked_about_never_hung_up_on():
    brain = fresh()
    decision = brain.decide("good i", alternatives=["goodbye", "good bye", "goodbye"])
    assert not decision.hang_up and decision.text == "Anything else I can help with?"
    assert brain.decide("no thanks").hang_up


# --- hanging up only on a goodbye the visitor means -------------------------------------------------


@pytest.mark.parametrize(
    "heard",
    [
        "thank you",
        "thank you kindly",
        "can you recommend a good restaurant nearby bye",  # "nearby" heard with a "bye"
        "can you would on good to talk to you bye",  # the same, as the ears heard an eSpeak voice say it
        "the bus stop is nearby bye",
        "hi can you say bye to my mum",
    ],
)
def test_a_bye_inside_a_sentence_about_something_else_does_not_end_the_call(heard):
    decision = fresh().decide(heard)
    assert not decision.hang_up


@pytest.mark.parametrize(
    "heard", ["right i live you bye", "no not really goodbye", "the bus stop is nearby bye"]
)
def test_a_goodbye_that_ends_a_sentence_about_something_else_is_checked_never_hung_up_on(heard):
    # "right i'll let you go bye" and "no that's everything goodbye" as the ears heard eSpeak voices say them.
    for confidence in (None, [1.0] * len(heard.split())):  # even with every word sure
        brain = fresh()
        check = brain.decide(heard, confidence)
        assert not check.hang_up and check.text == "Anything else I can help with?"
        assert brain.decide("no thanks").hang_up


def test_after_anything_else_a_question_that_ends_with_a_bye_is_not_a_goodbye():
    brain = fresh()
    brain.decide("right i live you bye")
    answer = brain.decide("yes is there a restaurant nearby bye")
    assert not answer.hang_up


def test_thank_you_then_a_short_bye_is_checked_and_no_then_ends_the_call():
    brain = fresh()
    check = brain.decide("thank you bye")  # also what the ears make of "thank you kindly"
    assert not check.hang_up and check.text == "Anything else I can help with?"
    goodbye = brain.decide("no thanks")
    assert goodbye.hang_up and "Goodbye" in goodbye.text


def test_nothing_said_after_anything_else_is_the_goodbye_and_after_another_question_nothing():
    brain = fresh()
    assert brain.unanswered() is None and not brain.closing  # nothing asked: nothing to give up on
    brain.decide("thank you bye")
    assert brain.closing
    goodbye = brain.unanswered()
    assert goodbye is not None and goodbye.hang_up and "Goodbye" in goodbye.text
    assert not brain.closing and brain.unanswered() is None  # given up once
    brain.decide("can you look up my order")  # "Which order?": the visitor may be looking for the number
    assert not brain.closing and brain.unanswered() is None


def test_after_anything_else_a_question_is_answered_and_a_yes_invited():
    brain = fresh()
    brain.decide("thank you bye")
    assert looked_up(brain.decide("yes order one two three")) == "123"
    brain.decide("thank you bye")
    go_on = brain.decide("yes")
    assert not go_on.hang_up and go_on.text == "Sure, what can I help you with?"


@pytest.mark.parametrize(
    "heard",
    [
        "bye",
        "goodbye",
        "that's all, thanks, bye",
        "bye bye",
        "ok bye",
        "thanks, goodbye",
        "alright that's it, bye",
        "no that is all thank you",
        "nothing else, bye",
        "know that is all thank you",  # "no", as the ears heard it
        "alright look bye then",  # "goodbye" split by the ears
    ],
)
def test_a_goodbye_the_visitor_means_ends_the_call(heard):
    decision = fresh().decide(heard)
    assert decision.hang_up and "Goodbye" in decision.text


def test_a_short_bye_after_thanks_ends_the_call_when_the_recogniser_is_sure_of_it():
    assert fresh().decide("thank you bye", confidence=[0.9, 0.9, 0.95]).hang_up
    assert not fresh().decide("thank you bye", confidence=[0.9, 0.9, 0.2]).hang_up
    assert not fresh().decide("goodbye", confidence=[0.2]).hang_up


def test_saying_bye_twice_after_the_check_ends_the_call():
    brain = fresh()
    brain.decide("thank you bye")
    assert brain.decide("thank you bye").hang_up


# --- free phrasing: the tuning sentences and the held-out ones ---------------------------------------


def phrasing(name: str) -> list[dict]:
    return json.loads(PHRASING.read_text(encoding="utf-8"))[name]


@pytest.mark.parametrize("sentence", phrasing("tuning"), ids=lambda s: s["said"])
def test_each_default_rule_hears_people_s_own_words(sentence):
    decision = fresh().decide(sentence["said"])
    rule = sentence["rule"]
    if rule is None:
        assert decision.rule is None and not decision.hang_up
        return
    assert decision.rule is not None and rule in decision.rule.when
    assert decision.hang_up == sentence.get("hang_up", False)
    if sentence["order_id"] is not None:
        assert looked_up(decision) == sentence["order_id"]


def test_the_phrasing_benchmark_prints_no_held_out_sentence(capsys, monkeypatch):
    # Totals only: a held-out sentence shown as missed is one somebody tunes the phrases to.
    spec = importlib.util.spec_from_file_location("rule_phrasing", PHRASING.parents[1] / "rule_phrasing.py")
    assert spec is not None and spec.loader is not None
    benchmark = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "rule_phrasing", benchmark)  # its dataclasses look themselves up there
    spec.loader.exec_module(benchmark)
    monkeypatch.setattr("sys.argv", ["rule_phrasing.py", "--verbose"])
    assert benchmark.main() == 0
    out = capsys.readouterr().out
    printed = {line[2:68].strip() for line in out.splitlines() if line.startswith("  ")}  # a sentence's row
    tuning = {s["said"] for s in phrasing("tuning")}
    assert tuning <= printed and "held-out set: 46 sentences" in out
    assert [s["said"] for s in phrasing("held_out") if s["said"] in printed - tuning] == []


def test_held_out_sentences_call_no_wrong_tool_and_end_no_call_unasked():
    # Never tuned on: only what must never happen is asserted, the share of right rules is a figure
    # (benchmarks/rule_phrasing.py).
    for sentence in phrasing("held_out"):
        decision = fresh().decide(sentence["said"])
        assert not decision.hang_up or sentence.get("hang_up"), sentence
        if decision.tool is not None:
            assert decision.arguments == {"order_id": sentence["order_id"]}, sentence


# --- the same through the assistant's conversation loop ---------------------------------------------


def talk(monkeypatch, turns: list[Heard]) -> tuple[list[str], list[tuple[str, dict]], list[bool]]:
    """The assistant's conversation loop over ``turns`` as the ears give them: what it said, the tools it
    called, and whether it hung up."""
    monkeypatch.setattr(media_assistant, "HANGUP_GRACE_SECONDS", 0)
    said: list[str] = []
    tools: list[tuple[str, dict]] = []
    hung_up: list[bool] = []

    async def app_tool(call, tool_call_id, name, arguments):
        tools.append((name, arguments))
        return ToolAnswer(ok=True, result={"order_id": arguments["order_id"], "status": "on its way"})

    call = Call(call_id="c-1", room_name="web-c", identity="web-user-1", assistant={})
    assistant = media_assistant.ScriptedAssistant(
        call=call,
        script=None,
        agent=None,
        voice=None,
        link=None,
        hang_up=lambda: hung_up.append(True),
        present=True,
        join_delay=0,
        tools=app_tool,
        speech=False,
    )

    async def next_turn(*, silence=None):
        if not turns:
            raise EOFError  # the visitor has nothing more to say: the test's conversation is over
        return turns.pop(0)

    async def say(text):
        said.append(text)
        return True  # said to the end (not cut short)

    async def set_state(state):
        pass

    monkeypatch.setattr(assistant, "next_turn", next_turn)
    monkeypatch.setattr(assistant, "say", say)
    monkeypatch.setattr(assistant, "_set_state", set_state)
    with contextlib.suppress(EOFError):
        run(assistant._converse())
    return said, tools, hung_up


def spoken(words: str, alternatives: tuple[str, ...] = ()) -> Heard:
    return Heard(text=words, final=True, duration=1.0, words=words, alternatives=alternatives)


def test_the_conversation_loop_asks_back_calls_the_tool_on_yes_and_checks_a_doubtful_goodbye(monkeypatch):
    turns = ["order three hundred and will", "yes", "thank you bye", "no thanks"]
    said, tools, hung_up = talk(monkeypatch, [spoken(words) for words in turns])
    assert said == [
        "Order 300, is that right?",
        "Order 300 is on its way.",
        "Anything else I can help with?",
        "Thanks for calling. Goodbye!",
    ]
    assert tools == [("lookup_order", {"order_id": "300"})] and hung_up == [True]


def test_the_conversation_loop_reads_the_recognisers_next_best_readings(monkeypatch):
    turns = [
        spoken("it's about my order one four going", ("it's about my order one four nine",)),
        spoken("yes"),
    ]
    said, tools, hung_up = talk(monkeypatch, turns)
    assert said == ["Order 149, is that right?", "Order 149 is on its way."]
    assert tools == [("lookup_order", {"order_id": "149"})] and hung_up == []
