"""``flask hms ...`` commands: sign and send a sample webhook to your own endpoint, to try handlers locally.

The group is registered through the ``flask.commands`` entry point, so ``flask hms`` is there in every app
that has the package installed; ``app.cli.add_command(hms_cli)`` works as well.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from ._state import EXTENSION_KEY
from .errors import setting_name
from .hms import (
    CALL_STATUSES,
    END_OF_CALL_REPORT,
    ERROR,
    EVENT_TYPES,
    STATUS_ENDED,
    STATUS_ENDED_WITH_ERROR,
    STATUS_IN_PROGRESS,
    STATUS_UPDATE,
    USER_HANGUP,
)
from .signature import delivery_headers

__all__ = ["EVENT_TYPES", "hms_cli", "sample_event", "signed_headers"]

STATUSES = CALL_STATUSES
DEFAULT_HOST = "http://127.0.0.1:5000"
DEFAULT_TOOL = "lookup_order"
MAX_SHOWN_BODY = 4000

hms_cli = AppGroup("hms", help="flask-hms-webcall: HMS Sovereign web call tools.")


def sample_event(
    event_type: str,
    call_id: str | None = None,
    *,
    user_id: str = "demo-user",
    metadata: dict[str, Any] | None = None,
    status: str | None = None,
    tool: str = DEFAULT_TOOL,
    arguments: dict[str, Any] | None = None,
    tool_call_id: str | None = None,
    ended_reason: str = USER_HANGUP,
) -> dict[str, Any]:
    """A realistic webhook payload of ``event_type`` for a web call, shaped as HMS documents it (snake_case).

    ``metadata`` defaults to ``{"user_id": user_id}``, as the extension sets it when creating a call.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"event type must be one of {', '.join(EVENT_TYPES)}")
    call_id = call_id or str(uuid.uuid4())
    ended_at = datetime.now(timezone.utc).replace(microsecond=0)
    started_at = ended_at - timedelta(seconds=47)
    call_status = status or (STATUS_ENDED if event_type == END_OF_CALL_REPORT else STATUS_IN_PROGRESS)
    message: dict[str, Any] = {
        "type": event_type,
        "timestamp": ended_at.isoformat().replace("+00:00", "Z"),
        "call": {"id": call_id, "type": "web_call", "status": call_status},
        # Web calls have no phone numbers: HMS sends these objects with null numbers.
        "phone_number": {"id": None, "number": None, "name": None},
        "customer": {"number": None},
        "assistant": {
            "name": "Sample assistant",
            "metadata": dict(metadata) if metadata is not None else {"user_id": user_id},
        },
    }
    if event_type == STATUS_UPDATE:
        message["status"] = call_status
        if call_status == STATUS_ENDED_WITH_ERROR:
            message["error"] = "STT connection failed"
            message["end_reason"] = ERROR
        elif call_status == STATUS_ENDED:
            message["end_reason"] = ended_reason
    elif event_type == END_OF_CALL_REPORT:
        message.update(
            {
                "end_reason": ended_reason,
                "duration_seconds": 47,
                "started_at": started_at.isoformat().replace("+00:00", "Z"),
                "ended_at": ended_at.isoformat().replace("+00:00", "Z"),
                "summary": "The user asked where order 1042 is; the assistant said it ships tomorrow.",
                "messages": [
                    {"role": "assistant", "content": "Hello! How can I help you?"},
                    {"role": "user", "content": "Where is my order 1042?"},
                    {"role": "assistant", "content": "Order 1042 ships tomorrow morning."},
                    {"role": "user", "content": "Great, thanks. Bye!"},
                ],
                "analysis": {"structured_data": {"order_id": "1042", "resolved": True}},
                "recording_url": None,
            }
        )
    else:
        message["tool_call_list"] = [
            {
                "id": tool_call_id or f"call_{uuid.uuid4().hex[:24]}",
                "type": "function",
                "function": {
                    "name": tool,
                    "arguments": dict(arguments) if arguments is not None else {"order_id": "1042"},
                },
            }
        ]
    return {"message": message}


def signed_headers(secret: str, event_type: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The headers HMS sends with a delivery of ``body``, signed with ``secret``."""
    return delivery_headers(
        event_type, body, secret, timestamp=timestamp, user_agent="flask-hms-webcall send-test-event"
    )


def _json_object(ctx: click.Context, param: click.Parameter, value: str | None) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        raise click.BadParameter("not valid JSON") from None
    if not isinstance(parsed, dict):
        raise click.BadParameter('must be a JSON object, e.g. \'{"order_id": "1042"}\'')
    return parsed


def _extension_state() -> Any:
    state = current_app.extensions.get(EXTENSION_KEY)
    if state is None:
        raise click.ClickException(
            "flask-hms-webcall is not set up on this app: create HMSWebCall(app) (or call init_app) first."
        )
    return state


@hms_cli.command("send-test-event")
@click.argument("event_type", metavar="TYPE", type=click.Choice(EVENT_TYPES))
@click.option("--url", help="Webhook endpoint [default: http://127.0.0.1:5000<HMS_URL_PREFIX>/webhooks].")
@click.option("--call-id", help="Call id to put in the event [default: a fresh UUID].")
@click.option("--user-id", default="demo-user", show_default=True, help="metadata.user_id of the call.")
@click.option(
    "--status",
    type=click.Choice(STATUSES),
    help="Call status for status-update [default: in-progress].",
)
@click.option("--tool", default=DEFAULT_TOOL, show_default=True, help="Tool name for tool-calls.")
@click.option(
    "--arguments",
    callback=_json_object,
    help='Tool arguments for tool-calls, a JSON object [default: {"order_id": "1042"}].',
)
@click.option("--timeout", default=15.0, show_default=True, help="Seconds to wait for the response.")
def send_test_event(
    event_type: str,
    url: str | None,
    call_id: str | None,
    user_id: str,
    status: str | None,
    tool: str,
    arguments: dict[str, Any] | None,
    timeout: float,
) -> None:
    """Sign a sample TYPE webhook with the app's webhook secret and POST it to the app's endpoint.

    TYPE is status-update, end-of-call-report or tool-calls. Run the app (flask run) in another terminal.
    """
    import requests

    settings = _extension_state().settings
    secrets = settings.webhook_secrets  # empty strings are already dropped by the config check
    if not secrets:
        raise click.ClickException(
            f"no webhook secret is configured: set {setting_name('HMS_WEBHOOK_SECRET')}."
        )
    target = url or f"{DEFAULT_HOST}{settings.url_prefix}/webhooks"
    payload = sample_event(
        event_type, call_id, user_id=user_id, status=status, tool=tool, arguments=arguments
    )
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = signed_headers(secrets[0], event_type, body)

    click.echo(f"POST {target}  ({event_type}, call {payload['message']['call']['id']})")
    try:
        response = requests.post(target, data=body, headers=headers, timeout=timeout, allow_redirects=False)
    except (
        requests.exceptions.InvalidURL,
        requests.exceptions.MissingSchema,
        requests.exceptions.InvalidSchema,
    ):
        raise click.ClickException(f"not a usable http(s) URL: {target}") from None
    except requests.exceptions.Timeout:
        raise click.ClickException(f"{target} did not answer within {timeout:g} s.") from None
    except requests.exceptions.ConnectionError:
        hint = "is anything listening there?" if url else "is the app running (flask run)? Or pass --url."
        raise click.ClickException(f"could not connect to {target}: {hint}") from None
    except requests.exceptions.RequestException as exc:
        raise click.ClickException(f"sending failed: {type(exc).__name__}") from None

    click.echo(f"{response.status_code} {response.reason}")
    text = response.text
    if text:
        click.echo(text if len(text) <= MAX_SHOWN_BODY else text[:MAX_SHOWN_BODY] + "\n[... truncated]")
    if response.status_code >= 400:
        raise click.exceptions.Exit(1)
