"""The built-in page actions aimed at opted-in elements (highlight, scroll_to, focus, fill): what the server
checks before one reaches the caller's browser. What the browser does: tests/browser/test_page_targets.py.
"""

from __future__ import annotations

import json
import logging

import pytest

from flask_hms_webcall import PageActionCall
from flask_hms_webcall.store import MemoryCallStore, RedisCallStore
from tests.support import assert_error, client_for, make_app, start, webhook
from tests.test_page_actions import ended, nothing_but_the_end, sse, tool_call


@pytest.fixture
def site(hms):
    """A site whose page actions pass the assistant's arguments through, as a site's handler might; and its
    extension (for ``page_targets``)."""
    app, webcall = make_app(HMS_MAX_CALLS_PER_USER=5)

    for name in ("highlight", "scroll_to", "focus", "fill"):

        @webcall.page_action(name)
        def passthrough(call: PageActionCall):
            return f"{call.name} sent.", dict(call.arguments)

    return app, webcall


@pytest.fixture
def shop(site):
    return site[0]


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


def report(client, call: dict, targets, *, url: str | None = None):
    url = url or call["actions_url"].replace("/actions", "/targets")
    return client.post(url, json=targets if not isinstance(targets, list) else {"targets": targets})


def test_the_callers_browser_reports_its_targets_and_the_site_reads_names_and_labels(site):
    app, webcall = site
    visitor = client_for(app, ip="198.51.100.1")
    call = start(visitor).json
    with app.test_request_context():
        assert webcall.page_targets(call["call_id"]) == []  # before any report
    first = [{"name": "orders", "label": "Your orders"}]
    assert report(visitor, call, first).status_code == 204
    reported = [
        {"name": "postcode", "label": "  Post\n code  "},
        {"name": "note", "label": "x" * 200},
    ]
    assert report(visitor, call, reported).status_code == 204  # after navigation: replaces the first
    with app.test_request_context():
        assert webcall.page_targets(call["call_id"]) == [
            {"name": "postcode", "label": "Post code"},
            {"name": "note", "label": "x" * 80},
        ]


def test_only_the_caller_may_report_and_a_bad_report_changes_nothing(site):
    app, webcall = site
    visitor = client_for(app, ip="198.51.100.1")
    call = start(visitor).json
    kept = [{"name": "orders", "label": "Your orders"}]
    assert report(visitor, call, kept).status_code == 204
    path = f"/hms/web-calls/{call['call_id']}/targets"
    stranger = client_for(app, ip="198.51.100.9")
    assert_error(report(stranger, call, [], url=path), 403, "forbidden")
    assert_error(report(stranger, call, [], url=f"{path}?token={'A' * 43}"), 403, "forbidden")
    assert_error(report(client_for(app, "mallory"), call, []), 403, "forbidden")
    for bad in (
        {"targets": "orders"},
        [{"name": "#orders", "label": "x"}],
        [{"name": "orders", "label": 3}],
        [{"name": "orders"}],
        [{"name": f"t{i}", "label": "x"} for i in range(51)],
        {"targets": [{"name": "a", "label": "x" * 20_000}]},
    ):
        assert_error(report(visitor, call, bad), 400, "invalid_request")
    assert_error(
        visitor.post(call["actions_url"].replace("/actions", "/targets"), data="{"), 400, "invalid_request"
    )
    with app.test_request_context():
        assert webcall.page_targets(call["call_id"]) == kept


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_the_store_keeps_the_last_value_until_it_expires(backend, request):
    if backend == "memory":
        now = [0.0]
        store = MemoryCallStore(clock=lambda: now[0])
    else:
        store = RedisCallStore.from_url(request.getfixturevalue("redis_url"))
    assert store.kept_value("targets:c1") is None
    store.keep_value("targets:c1", "a", ttl=60)
    store.keep_value("targets:c1", "b", ttl=60)
    store.keep_value("targets:c2", "c", ttl=60)
    assert (store.kept_value("targets:c1"), store.kept_value("targets:c2")) == ("b", "c")
    if backend == "memory":
        now[0] = 61
        assert store.kept_value("targets:c1") is None
