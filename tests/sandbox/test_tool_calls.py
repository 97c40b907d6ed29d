"""Tools mid-call: the sandbox's signed ``tool-calls`` webhook, the app's answer, and what the assistant says.

The app is a small aiohttp server in the test's loop that answers as told (a result, an error, too late).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from flask_hms_webcall.sandbox.calls import Call
from flask_hms_webcall.sandbox.config import SandboxConfig
from flask_hms_webcall.sandbox.media.assistant import ScriptedAssistant
from flask_hms_webcall.sandbox.webhooks import ToolAnswer, WebhookNotifier
from flask_hms_webcall.signature import verify
from tests.conftest import free_port
from tests.sandbox.test_media_protocol import (
    run,
)  # a fresh loop in its own thread (Playwright holds this one)

SECRET = "whsec_tools"
ARGUMENTS = {"order_id": "123"}


def make_call(url: str, **assistant: Any) -> Call:
    fields = {"webhook_url": url, "webhook_secret": SECRET, "metadata": {"user_id": "ada"}, **assistant}
    return Call(call_id="c-1", room_name="web-c", identity="web-user-1", assistant=fields)


async def with_app(answer, scenario, *, timeout: float = 10.0):
    """Run ``scenario(notifier, url, received)`` against an app whose handler is ``answer(request)``."""
    received: list[tuple[dict[str, str], bytes]] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        received.append((dict(request.headers), await request.read()))
        return await answer(request)

    app = web.Application()
    app.router.add_post("/hms/webhooks", handler)
    app.router.add_post("/tools/orders", handler)
    server = TestServer(app, host="127.0.0.1", port=free_port())
    await server.start_server()
    notifier = WebhookNotifier(SandboxConfig(webhook_timeout=timeout))
    await notifier.start()
    try:
        return await scenario(notifier, f"http://127.0.0.1:{server.port}", received)
    finally:
        await notifier.close()
        await server.close()


def test_a_tool_call_is_a_signed_webhook_and_its_result_comes_back():
    async def answer(request):
        body = await request.json()
        [item] = body["message"]["tool_call_list"]
        return web.json_response(
            {"results": [{"tool_call_id": item["id"], "result": '{"status": "shipped"}'}]}
        )

    async def scenario(notifier, url, received):
        got = await notifier.call_tool(
            make_call(url + "/hms/webhooks"), "call_abc", "lookup_order", ARGUMENTS
        )
        [(headers, body)] = received
        assert headers["X-Webhook-Event"] == "tool-calls"
        verify(body, headers["X-Webhook-Signature"], headers["X-Webhook-Timestamp"], SECRET)
        message = json.loads(body)["message"]
        assert message["type"] == "tool-calls"
        assert message["call"] == {"id": "c-1", "type": "web_call", "status": "queued"}
        assert message["assistant"]["metadata"] == {"user_id": "ada"}
        assert "webhook_secret" not in message["assistant"]
        assert message["tool_call_list"] == [
            {
                "id": "call_abc",
                "type": "function",
                "function": {"name": "lookup_order", "arguments": ARGUMENTS},
            }
        ]
        return got

    assert run(with_app(answer, scenario)) == ToolAnswer(ok=True, result={"status": "shipped"})


def test_a_tools_own_url_wins_over_the_assistants_webhook_url():
    async def answer(request):
        return web.json_response({"result": request.path})

    async def scenario(notifier, url, received):
        tools = [{"name": "lookup_order", "description": "d", "url": url + "/tools/orders"}]
        call = make_call(url + "/hms/webhooks", llm_config={"tools": tools})
        return await notifier.call_tool(call, "call_1", "lookup_order", ARGUMENTS)

    assert run(with_app(answer, scenario)).result == "/tools/orders"


def test_a_slow_failing_or_refusing_app_is_a_failed_tool_call():
    async def slow(request):
        await asyncio.sleep(2)
        return web.json_response({"result": "too late"})

    async def broken(request):
        return web.Response(status=500, text="boom")

    async def refusing(request):
        return web.json_response({"error": "database down"})

    async def scenario(notifier, url, received):
        return await notifier.call_tool(make_call(url + "/hms/webhooks"), "call_1", "lookup_order", ARGUMENTS)

    assert run(with_app(slow, scenario, timeout=0.3)) == ToolAnswer(ok=False, error="TimeoutError")
    assert run(with_app(broken, scenario)) == ToolAnswer(ok=False, error="HTTP 500")
    assert run(with_app(refusing, scenario)) == ToolAnswer(ok=False, error="database down")


def test_without_a_webhook_for_tool_calls_nothing_is_sent():
    async def answer(request):
        return web.json_response({"result": "unexpected"})

    async def scenario(notifier, url, received):
        call = make_call(url + "/hms/webhooks", webhook_events=["end-of-call-report"])
        got = await notifier.call_tool(call, "call_1", "lookup_order", ARGUMENTS)
        assert received == []
        return got

    assert run(with_app(answer, scenario)).ok is False


def assistant_with(tools) -> ScriptedAssistant:
    call = make_call("http://127.0.0.1:9/hms/webhooks")
    return ScriptedAssistant(
        call=call,
        script=None,
        agent=None,
        voice=None,
        link=None,
        hang_up=lambda: None,
        present=True,
        join_delay=0,
        tools=tools,
        speech=False,
    )


def test_the_assistant_reads_the_answer_out_and_records_call_and_result():
    async def tools(call, tool_call_id, name, arguments):
        assert (name, arguments) == ("lookup_order", ARGUMENTS)
        return ToolAnswer(ok=True, result={"order_id": "123", "status": "delivered"})

    assistant = assistant_with(tools)
    said = run(assistant._use_tool(assistant.brain.decide("status of order one two three")))
    assert said == "Order 123 is delivered."
    called, result = assistant.call.transcript
    [tool_call] = called["tool_calls"]
    assert called["role"] == "assistant" and tool_call["function"]["arguments"] == ARGUMENTS
    assert result["role"] == "tool" and result["tool_call_id"] == tool_call["id"]
    assert json.loads(result["content"]) == {"order_id": "123", "status": "delivered"}


def test_a_failed_tool_is_said_and_recorded_and_the_call_goes_on():
    async def tools(call, tool_call_id, name, arguments):
        return ToolAnswer(ok=False, error="TimeoutError")

    assistant = assistant_with(tools)
    said = run(assistant._use_tool(assistant.brain.decide("order four five six")))
    assert said.startswith("Sorry, I could not get an answer from lookup order")
    assert assistant.call.transcript[-1]["content"] == "Error: TimeoutError"
