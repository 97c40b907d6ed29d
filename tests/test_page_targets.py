"""The built-in page actions aimed at opted-in elements (highlight, scroll_to, focus, fill): what the server
checks before one reaches the caller's browser. What the browser does: tests/browser/test_page_targets.py.
"""

from __future__ import annotations

import json
import logging

import pytest

from flask_hms_webcall import PageActionCall
from tests.support import client_for, make_app, start, webhook
from tests.test_page_actions import ended, nothing_but_the_end, sse, tool_call


@pytest.fixture
def shop(hms):
    """A site whose page actions pass the assistant's arguments through, as a site's handler might."""
    app, webcall = make_app(HMS_MAX_CALLS_PER_USER=5)

    for name in ("highlight", "scroll_to", "focus", "fill"):

        @webcall.page_action(name)
        def passthrough(call: PageActionCall):
            return f"{call.name} sent.", dict(call.arguments)

    return app


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("highlight", {"target": "shipping-form"}),
        ("scroll_to", {"target": "orders"}),
        ("focus", {"target": "postcode_2"}),
        ("fill", {"target": "postcode", "value": "1234 AB"}),
        ("fill", {"target": "note", "value": "x" * 500}),
    ],
)
def test_a_well_formed_target_action_reaches_the_callers_stream(shop, name, arguments):
    alice = client_for(shop, "alice")
    call = start(alice).json
    reply = webhook(shop, tool_call(call["call_id"], name, arguments))
    assert reply.json["results"][0]["result"] == f"{name} sent."
    opened = alice.get(call["actions_url"], buffered=False)
    webhook(shop, ended(call["call_id"]))
    [(_, kind, data), _end] = sse(opened)
    assert kind == "action" and json.loads(data)["args"] == arguments


@pytest.mark.parametrize(
    ("name", "arguments", "problem"),
    [
        ("highlight", {}, "takes exactly {target}"),
        ("highlight", {"target": "a", "selector": "#x"}, "takes exactly {target}"),
        ("scroll_to", {"target": 'x"], body, [a="'}, "letters, digits"),
        ("focus", {"target": ""}, "letters, digits"),
        ("focus", {"target": "-leading-dash"}, "letters, digits"),
        ("highlight", {"target": "a" * 65}, "letters, digits"),
        ("highlight", {"target": 7}, "letters, digits"),
        ("fill", {"target": "postcode"}, "takes exactly {target, value}"),
        ("fill", {"target": "postcode", "value": 1234}, "must be text"),
        ("fill", {"target": "postcode", "value": "x" * 501}, "over 500"),
        ("fill", {"target": "post code", "value": "1234"}, "letters, digits"),
    ],
)
def test_a_malformed_target_action_is_not_sent_and_the_assistant_hears_it_failed(
    shop, caplog, name, arguments, problem
):
    alice = client_for(shop, "alice")
    call = start(alice).json
    with caplog.at_level(logging.ERROR, logger="flask_hms_webcall"):
        reply = webhook(shop, tool_call(call["call_id"], name, arguments))
    assert reply.status_code == 200
    assert reply.json["results"][0]["result"] == f"Error: the page action {name!r} failed."
    assert problem in caplog.text
    assert nothing_but_the_end(shop, alice, call)
