"""The deployment of deploy/, with real parts on loopback: Debian's nginx with deploy/nginx.conf (TLS with a
throwaway certificate), gunicorn with deploy/gunicorn.conf.py (2 gthread workers), and redis-server with
deploy/redis.conf. Only what cannot be the same on a test machine is changed: ports, paths, the host name.

Checked through nginx, each printing its figures (timings are printed, bounds are generous):
- 200 simultaneous creates from 200 visitors admit exactly the org limit;
- 50 clients sending one byte a second do not hold up a signed webhook or a create;
- an HMS that drips its answer gets the visitor a JSON 504 in time;
- a worker killed mid-handler loses no delivery: HMS's retry 2 s later is handled, the handler finishes once.
"""

from __future__ import annotations

import configparser
import contextlib
import json
import os
import runpy
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from flask_hms_webcall._config import OPTIONS
from flask_hms_webcall.signature import delivery_headers
from tests.conftest import ROOT, free_port, require

pytestmark = pytest.mark.deploy

DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SECRET = "whsec_deploy_test"
ORG_LIMIT = 3
REQUEST_TIMEOUT = 2.0
VISITORS = 200
SLOW_CLIENTS = 50
SLOW_CALL_ID = "call-slow-handler"  # its webhook handler takes 3 s (tests/deploy/app.py)


class StubHMS(ThreadingHTTPServer):
    """``POST /v1/web-calls`` on loopback: a fresh call each time, or (``drip = True``) an answer whose status
    line arrives one byte every 0.2 s, for up to 30 s; ``hung_up`` is set when the caller closes the
    connection while the answer is still dripping."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _StubHandler)
        self.drip = False
        self.hung_up = threading.Event()
        self.created = 0
        self._lock = threading.Lock()
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def next_id(self) -> int:
        with self._lock:
            self.created += 1
            return self.created


class _StubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: StubHMS

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.server.drip:
            ends = time.monotonic() + 30
            try:
                for byte in b"HTTP/1.1 200 " + b"O" * 200:
                    if time.monotonic() > ends:
                        break
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                self.server.hung_up.set()
            self.close_connection = True
            return
        n = self.server.next_id()
        body = json.dumps(
            {"call_id": f"call-{n}", "room_name": f"web-{n}", "token": f"jwt-{n}", "server_url": "wss://rtc"}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Stack:
    """nginx + gunicorn + Redis + a stub HMS, all on loopback, from the files in deploy/."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: dict[str, subprocess.Popen] = {}
        self.hms = StubHMS()
        self.events = workdir / "events.txt"
        self.events.touch()
        self.redis_port = free_port()
        self.https_port = free_port()
        self.http_port = free_port()
        self.base = f"https://localhost:{self.https_port}"
        self.cert = workdir / "cert.pem"

    # ------------------------------------------------------------------------------------------ start

    def start(self) -> None:
        self._start_redis()
        self._start_gunicorn()
        self._make_certificate()
        self._start_nginx()

    def _spawn(self, name: str, args: list[str], **kwargs) -> None:
        log = (self.workdir / f"{name}.log").open("wb")
        self.procs[name] = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, **kwargs)

    def _start_redis(self) -> None:
        redis_server = shutil.which("redis-server")
        require(redis_server is not None, "redis-server is not installed (apt-get install redis-server)")
        args = [redis_server, str(DEPLOY / "redis.conf"), "--port", str(self.redis_port)]
        args += ["--bind", "127.0.0.1", "--dir", str(self.workdir), "--save", ""]
        self._spawn("redis", args)
        self._wait_port(self.redis_port, "redis")

    def _start_gunicorn(self) -> None:
        try:
            import gunicorn  # noqa: F401
        except ImportError:
            require(False, "gunicorn is not installed (pip install -e .[dev])")
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "WEB_CONCURRENCY": "2",
            "DEPLOY_TEST_WEBHOOK_SECRET": SECRET,
            "DEPLOY_TEST_HMS_URL": self.hms.url,
            "DEPLOY_TEST_REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "DEPLOY_TEST_REQUEST_TIMEOUT": str(REQUEST_TIMEOUT),
            "DEPLOY_TEST_ORG_LIMIT": str(ORG_LIMIT),
            "DEPLOY_TEST_EVENTS": str(self.events),
            "DEPLOY_TEST_SLOW_CALL_ID": SLOW_CALL_ID,
        }
        self.socket_path = self.workdir / "gunicorn.sock"
        args = [sys.executable, "-m", "gunicorn", "-c", str(DEPLOY / "gunicorn.conf.py")]
        args += ["--bind", f"unix:{self.socket_path}", "tests.deploy.app:app"]
        self._spawn("gunicorn", args, env=env, cwd=ROOT)
        deadline = time.monotonic() + 30
        while not self.socket_path.exists():
            self._check_alive("gunicorn")
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start:\n" + self.output("gunicorn"))
            time.sleep(0.1)

    def _make_certificate(self) -> None:
        key = self.workdir / "key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
            + ["-nodes", "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"]
            + ["-keyout", str(key), "-out", str(self.cert)],
            check=True,
            capture_output=True,
        )

    def site_config(self) -> str:
        """deploy/nginx.conf with this machine's ports, socket, host name and certificate."""
        text = (DEPLOY / "nginx.conf").read_text()
        http, https = f"127.0.0.1:{self.http_port}", f"127.0.0.1:{self.https_port}"
        for old, new, count in [
            ("unix:/run/hms-webcall/gunicorn.sock", f"unix:{self.socket_path}", 1),
            ("    listen [::]:80 default_server;\n", "", 1),
            ("    listen [::]:443 ssl default_server;\n", "", 1),
            ("    listen [::]:80;\n", "", 1),
            ("    listen [::]:443 ssl;\n", "", 1),
            ("listen 80 ", f"listen {http} ", 1),
            ("listen 443 ssl ", f"listen {https} ssl ", 1),
            ("listen 80;", f"listen {http};", 1),
            ("listen 443 ssl;", f"listen {https} ssl;", 1),
            ("server_name example.com;", "server_name localhost;", 2),
            ("/etc/letsencrypt/live/example.com/fullchain.pem", str(self.cert), 1),
            ("/etc/letsencrypt/live/example.com/privkey.pem", str(self.workdir / "key.pem"), 1),
            ("/var/log/nginx/access.log", str(self.workdir / "access.log"), 1),
        ]:
            assert text.count(old) == count, f"deploy/nginx.conf no longer has {old!r} {count} time(s)"
            text = text.replace(old, new)
        return text

    def _start_nginx(self) -> None:
        require(Path(NGINX).exists(), "nginx is not installed (apt-get install nginx)")
        (self.workdir / "site.conf").write_text(self.site_config())
        temp = self.workdir / "nginx-temp"
        temp.mkdir()
        # The main file Debian's nginx.conf would be: it includes the site file inside its http block.
        user = "user root;\n" if os.geteuid() == 0 else ""
        main = [
            f"{user}worker_processes 2;",
            f"pid {self.workdir}/nginx.pid;",
            f"error_log {self.workdir}/nginx-error.log;",
            "events { worker_connections 1024; }",
            "http {",
            "    access_log off;",
            *(
                f"    {kind}_temp_path {temp}/{kind};"
                for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
            ),
            f"    include {self.workdir}/site.conf;",
            "}",
        ]
        (self.workdir / "nginx.conf").write_text("\n".join(main) + "\n")
        conf = str(self.workdir / "nginx.conf")
        check = subprocess.run(
            [NGINX, "-t", "-p", str(self.workdir), "-c", conf], capture_output=True, text=True
        )
        assert check.returncode == 0, check.stderr
        self._spawn("nginx", [NGINX, "-p", str(self.workdir), "-c", conf, "-g", "daemon off;"])
        self._wait_port(self.https_port, "nginx")

    def _wait_port(self, port: int, name: str) -> None:
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return
            except OSError:
                self._check_alive(name)
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not start:\n{self.output(name)}") from None
                time.sleep(0.05)

    def _check_alive(self, name: str) -> None:
        if self.procs[name].poll() is not None:
            raise RuntimeError(f"{name} exited:\n{self.output(name)}")

    def output(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.hms.shutdown()
        self.hms.server_close()

    # ------------------------------------------------------------------------------------------ use

    def reset(self) -> None:
        """No live calls, no rate-limit counts, no handled deliveries: each check starts alike."""
        import redis

        redis.Redis(port=self.redis_port).flushall()
        self.hms.drip = False

    def create(self, visitor: str, session: requests.Session | None = None) -> requests.Response:
        return (session or requests).post(
            f"{self.base}/hms/web-calls", json={}, headers={"X-Test-Visitor": visitor}, verify=str(self.cert)
        )

    def webhook(self, body: bytes, session: requests.Session | None = None) -> requests.Response:
        headers = delivery_headers(json.loads(body)["message"]["type"], body, SECRET)
        return (session or requests).post(
            f"{self.base}/hms/webhooks", data=body, headers=headers, verify=str(self.cert), timeout=30
        )

    def slow_client(self) -> ssl.SSLSocket:
        context = ssl.create_default_context(cafile=str(self.cert))
        raw = socket.create_connection(("127.0.0.1", self.https_port))
        return context.wrap_socket(raw, server_hostname="localhost")


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    workdir = Path(tempfile.mkdtemp(prefix="hms-deploy-"))
    stack = Stack(workdir)
    try:
        stack.start()
        yield stack
    except BaseException:
        for name in stack.procs:
            print(f"----- {name}\n{stack.output(name)[-4000:]}")
        raise
    finally:
        stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def report(capsys: pytest.CaptureFixture, text: str) -> None:
    """Figures go to the terminal even when pytest captures output (``make test``)."""
    with capsys.disabled():
        print(text)


def status_update(call_id: str, n: int = 0) -> bytes:
    message = {
        "type": "status-update",
        "status": "in-progress",
        "call": {"id": call_id, "type": "web_call"},
        "n": n,
    }
    return json.dumps({"message": message}).encode()


def assert_json_error(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text[:500]
    assert response.headers["Content-Type"].startswith("application/json"), response.text[:500]
    assert response.json()["error"]["code"] == code


def test_simultaneous_creates_from_many_visitors_admit_exactly_the_org_limit(stack, capsys):
    stack.reset()
    barrier = threading.Barrier(VISITORS)
    answers: list[requests.Response | None] = [None] * VISITORS

    def visit(i: int) -> None:
        barrier.wait()
        answers[i] = stack.create(f"visitor-{i}")

    started = time.monotonic()
    threads = [threading.Thread(target=visit, args=(i,)) for i in range(VISITORS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    elapsed = time.monotonic() - started
    statuses = Counter(answer.status_code for answer in answers if answer is not None)
    report(
        capsys,
        f"\n{VISITORS} simultaneous creates: {dict(statuses)} in {elapsed:.2f} s; "
        f"HMS was asked {stack.hms.created} times",
    )
    assert statuses == {201: ORG_LIMIT, 503: VISITORS - ORG_LIMIT}
    assert stack.hms.created == ORG_LIMIT
    refused = [answer for answer in answers if answer is not None and answer.status_code == 503]
    assert {answer.json()["error"]["code"] for answer in refused} == {"busy"}


def test_slow_clients_do_not_hold_up_webhooks_or_creates(stack, capsys):
    stack.reset()
    clients = [stack.slow_client() for _ in range(SLOW_CLIENTS)]
    # Half drip a webhook's headers, half its body: one byte per second each.
    request_head = (
        b"POST /hms/webhooks HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n"
    )
    for i, client in enumerate(clients):
        if i % 2:
            client.sendall(request_head)
    stop = threading.Event()

    def drip() -> None:
        position = 0
        while not stop.is_set():
            for i, client in enumerate(clients):
                byte = request_head[position : position + 1] if i % 2 == 0 else b"{"
                with contextlib.suppress(OSError):
                    client.sendall(byte or b" ")
            position += 1
            stop.wait(1.0)

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    try:
        time.sleep(3)  # every slow client is connected and has started its request
        with requests.Session() as session:
            started = time.monotonic()
            hook = stack.webhook(status_update("call-during-drip"), session)
            webhook_time = time.monotonic() - started
            started = time.monotonic()
            create = stack.create("visitor-during-drip", session)
            create_time = time.monotonic() - started
    finally:
        stop.set()
        dripper.join(5)
        for client in clients:
            client.close()
    report(
        capsys,
        f"\nwith {SLOW_CLIENTS} clients sending a byte a second: "
        f"signed webhook answered in {webhook_time * 1000:.0f} ms, create in {create_time * 1000:.0f} ms",
    )
    assert hook.status_code == 200, hook.text
    assert create.status_code == 201, create.text
    # Without nginx in front, each answer waited ~30 s; the bound only says "not held up".
    assert webhook_time < 10 and create_time < 10


def test_an_hms_that_drips_its_answer_gets_the_visitor_a_json_504_in_time(stack, capsys):
    stack.reset()
    stack.hms.drip = True
    stack.hms.hung_up.clear()
    started = time.monotonic()
    response = stack.create("visitor-drip")
    elapsed = time.monotonic() - started
    stack.hms.drip = False
    report(
        capsys,
        f"\nHMS dripping its answer: {response.status_code} after {elapsed:.2f} s "
        f"(deadline {REQUEST_TIMEOUT:g} s)",
    )
    assert_json_error(response, 504, "upstream_timeout")
    # In time: the app hung up on HMS while HMS was still dripping (for 30 s, REQUEST_TIMEOUT is 2 s), rather
    # than waiting it out. Not `elapsed < REQUEST_TIMEOUT + 1`, which a busy machine can cross.
    assert stack.hms.hung_up.wait(30), "the app read HMS's dripping answer to its end"
    # The slot was released: the same visitor can start a call at once.
    assert stack.create("visitor-drip").status_code == 201


def test_a_worker_killed_mid_handler_loses_no_delivery(stack, capsys):
    stack.reset()
    stack.events.write_text("")
    body = status_update(SLOW_CALL_ID)
    first: list[requests.Response] = []
    sender = threading.Thread(target=lambda: first.append(stack.webhook(body)))
    sender.start()
    deadline = time.monotonic() + 15
    while "start" not in stack.events.read_text():
        assert time.monotonic() < deadline, "the handler never started"
        time.sleep(0.02)
    pid = int(stack.events.read_text().split()[1])
    os.kill(pid, signal.SIGABRT)  # what gunicorn's arbiter sends a worker it gives up on
    sender.join(30)
    report(capsys, f"\nworker {pid} killed mid-handler: the delivery got {first[0].status_code}")
    assert_json_error(first[0], 503, "unavailable")  # nginx's own error, in the extension's shape

    time.sleep(2)  # HMS retries
    started = time.monotonic()
    retry = stack.webhook(body)
    handled_in = time.monotonic() - started
    again = stack.webhook(body)
    events = stack.events.read_text().split("\n")
    report(
        capsys,
        f"retry 2 s later: {retry.status_code} in {handled_in:.2f} s; a third delivery: {again.json()}",
    )
    assert retry.status_code == 200, retry.text
    assert retry.json().get("duplicate") is not True
    assert again.status_code == 200 and again.json().get("duplicate") is True
    assert events.count("done") == 1
    assert sum(line.startswith("start") for line in events) == 2


def test_the_files_agree_on_the_socket_and_the_settings():
    """What the deployment test cannot run as shipped (systemd, /run) still fits together."""
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(DEPLOY / "hms-webcall.service")
    service = unit["Service"]
    gunicorn = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    socket_path = f"/run/{service['RuntimeDirectory']}/gunicorn.sock"
    assert gunicorn["bind"] == f"unix:{socket_path}"
    assert f"server unix:{socket_path} " in (DEPLOY / "nginx.conf").read_text()
    assert "deploy/gunicorn.conf.py" in service["ExecStart"]
    assert gunicorn["worker_class"] == "gthread"
    # A worker cut by the final kill of a restart must not hold its delivery claims longer than they last.
    claim_ttl = next(option.default for option in OPTIONS if option.key == "HMS_WEBHOOK_CLAIM_TTL")
    assert gunicorn["graceful_timeout"] < claim_ttl
    assert int(service["TimeoutStopSec"]) > gunicorn["graceful_timeout"]
