"""``python -m example_app``: run the example site, on the offline sandbox unless HMS_API_KEY is set.

Environment: ``EXAMPLE_APP_PORT`` (default 5000; 0 for any free port), ``HMS_SANDBOX_ARGS`` (extra sandbox
flags, shell syntax), ``EXAMPLE_APP_INSTANCE`` (where the calls database lives), ``HMS_API_KEY`` /
``HMS_ASSISTANT_ID`` / ``HMS_WEBHOOK_SECRET`` / ``HMS_API_BASE_URL`` (the real HMS, not the sandbox).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
import shlex
import socket
import sys
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

from flask_hms_webcall import ConfigurationError

from .app import create_app

HOST = "127.0.0.1"
log = logging.getLogger("example_app")


class RequestLog(WSGIRequestHandler):
    """Werkzeug's request log without the query string: an anonymous visitor's action stream carries its
    token there (EventSource sends no headers), and a log is no place for it. deploy/'s nginx and gunicorn
    formats leave the query out too."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The request's environ was made from the path already: only the log line sees this.
        if hasattr(self, "path"):  # not set when the request line could not be read
            self.path = self.path.partition("?")[0]
        super().log_request(code, size)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        port = int(os.environ.get("EXAMPLE_APP_PORT", "5000"))
    except ValueError:
        print("example_app: EXAMPLE_APP_PORT must be a port number", file=sys.stderr)
        return 2
    # The port is taken first, so a busy one is told plainly before anything else starts, and "ready" is
    # printed only once the app really listens (EXAMPLE_APP_PORT=0: any free port).
    apps: list[Any] = []
    try:
        # Bound here rather than by Werkzeug, which answers a busy port with a message of its own and exits.
        listening = socket.create_server((HOST, port))
    except OSError as exc:
        print(
            f"example_app: cannot listen on {HOST}:{port} ({exc.strerror or exc}); "
            "set EXAMPLE_APP_PORT to a free port",
            file=sys.stderr,
        )
        return 1
    server = make_server(
        HOST,
        port,
        lambda environ, start: apps[0](environ, start),
        threaded=True,
        request_handler=RequestLog,
        fd=listening.fileno(),
    )
    app_url = f"http://{HOST}:{listening.getsockname()[1]}"
    # The names this app is reached by, as a deployment sets them (FLASK_TRUSTED_HOSTS): Flask refuses any
    # other Host, and the same-origin check trusts these names rather than the Host header, which a
    # DNS-rebinding page chooses. It listens on the loopback only, so these are all its names.
    config: dict[str, Any] = {"TRUSTED_HOSTS": [HOST, "localhost"]}
    sandbox = None
    try:
        if not os.environ.get("HMS_API_KEY"):
            sandbox = _start_sandbox(app_url, config)
            if sandbox is None:
                return 2
            backend = f"the offline sandbox at {sandbox.api_base_url} (no HMS account needed)"
        else:
            backend = "HMS with your HMS_API_KEY"
        try:
            apps.append(create_app(config))
        except ConfigurationError as exc:
            print(f"example_app: {exc}", file=sys.stderr)
            return 2
        print(f"Example app ready: open {app_url}/ in your browser. Calls go to {backend}.", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        listening.close()
        if sandbox is not None:
            sandbox.stop()
    return 0


def _start_sandbox(app_url: str, config: dict[str, Any]) -> Any:
    # Imported here: the sandbox's dependencies (the [sandbox] extra) are not needed against the real HMS.
    from flask_hms_webcall.sandbox import config_from_args, start_in_thread

    from .sandbox_assistant import with_demo_assistant

    # Made up per run unless given: the sandbox signs its webhooks with it and this app verifies them.
    secret = os.environ.get("HMS_WEBHOOK_SECRET") or secrets.token_urlsafe(32)
    extra = shlex.split(os.environ.get("HMS_SANDBOX_ARGS", ""))
    port_given = any(arg == "--port" or arg.startswith("--port=") for arg in extra)
    # "--flag=value": a random secret may begin with "-", which argparse would take for a flag.
    # The app reads FLASK_HMS_URL_PREFIX through from_prefixed_env; the sandbox must post where it listens.
    prefix = os.environ.get("FLASK_HMS_URL_PREFIX", "/hms").rstrip("/")
    argv = [*extra, f"--webhook-url={app_url}{prefix}/webhooks", f"--webhook-secret={secret}"]
    try:
        sandbox_config = with_demo_assistant(config_from_args(argv))
    except ValueError as exc:
        print(f"example_app: HMS_SANDBOX_ARGS: {exc}", file=sys.stderr)
        return None
    try:
        handle = start_in_thread(sandbox_config)
    except OSError as exc:
        if port_given:
            print(
                f"example_app: the sandbox cannot listen on port {sandbox_config.port}: {exc}",
                file=sys.stderr,
            )
            return None
        # Its usual port is taken (a second demo, a local LiveKit server): any free port does as well.
        log.info("port %s is taken; the sandbox takes a free port instead", sandbox_config.port)
        handle = start_in_thread(dataclasses.replace(sandbox_config, port=0))
    config.update(
        HMS_API_KEY=handle.api_key,
        HMS_API_BASE_URL=handle.api_base_url,
        HMS_ASSISTANT_ID=handle.assistant_id,
        HMS_WEBHOOK_SECRET=secret,
        EXAMPLE_SANDBOX_URL=handle.api_base_url,
    )
    return handle


if __name__ == "__main__":
    sys.exit(main())
