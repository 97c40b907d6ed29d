"""HMS_REQUEST_TIMEOUT is a deadline for the whole create, against a real socket server that drips its answer
one byte at a time: in the status line, in the headers or in the body. The visitor gets the documented
``504 upstream_timeout`` JSON well before the drip would have ended, the call slot is free again, and when
HMS may have created the call its id is in the log (never its token)."""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from flask_hms_webcall import HMSClient, HMSTimeoutError, HMSWebCall
from tests.conftest import require
from tests.support import API_KEY, ASSISTANT_ID, configured_app

TIMEOUT = 1.0
DRIP_INTERVAL = 0.2  # well under the timeout: a per-read timeout alone would never fire
DRIP_FOR = 30.0  # how long the drip would hold a request that has no deadline
TOKEN = "eyJhbGciOiJIUzI1NiJ9.dripped.TOKEN_SECRET"


def answer(call_id: str) -> bytes:
    return json.dumps(
        {"success": True, "call_id": call_id, "room_name": "web-1", "token": TOKEN, "server_url": "wss://rtc"}
    ).encode()


def headers(length: int) -> bytes:
    return f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n".encode()


class DripServer:
    """An HTTP/1.1 server on loopback. Each request takes the next script from ``scripts``: ``("ok", id)``
    answers a web call at once (``"chunked"``: in two chunks; ``"close"``: the body after a pause, then the
    connection closes); ``("status" | "headers" | "body", id)`` drips one byte per DRIP_INTERVAL at that
    point of the answer. Connections are kept alive, so a pooled connection can be reused."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        self.scripts: list[tuple[str, str]] = []
        self.connections = 0
        self.drips_cut = 0  # drips that ended because the client hung up, not because DRIP_FOR ran out
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self._closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._closing = True
        self._sock.close()

    def _accept(self) -> None:
        while not self._closing:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        if self.tls is not None:
            try:
                conn.settimeout(5)
                conn = self.tls.wrap_socket(conn, server_side=True)
                conn.settimeout(None)
            except OSError:
                conn.close()
                return
        self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            try:
                while self._read_request(conn):
                    kind, call_id = self.scripts.pop(0)
                    body = answer(call_id)
                    if kind == "ok":
                        conn.sendall(headers(len(body)) + body)
                    elif kind == "close":  # the headers end the connection; the body follows a moment later
                        conn.sendall(
                            headers(len(body)).replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")
                        )
                        time.sleep(0.2)
                        conn.sendall(body)
                        return
                    elif kind == "chunked":
                        head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        half = len(body) // 2
                        chunks = b"".join(
                            b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:half], body[half:])
                        )
                        conn.sendall(head + chunks + b"0\r\n\r\n")
                    elif kind == "status":
                        self._drip(conn, b"HTTP/1.1 200 " + b"O" * 10_000)
                    elif kind == "headers":
                        conn.sendall(b"HTTP/1.1 200 OK\r\n")
                        self._drip(conn, b"X-Slow: " + b"a" * 10_000)
                    else:  # body: the call id arrives, then the rest never does
                        conn.sendall(headers(len(body) + 10_000) + body[: body.index(b'"token"')])
                        self._drip(conn, b" " * 10_000)
                    if kind not in ("ok", "chunked"):
                        return
            except OSError:
                return

    @staticmethod
    def _read_request(conn: socket.socket) -> bool:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return False
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":")[1])
                for line in head.lower().split(b"\r\n")
                if line.startswith(b"content-length:")
            ),
            0,
        )
        while len(body) < length:
            body += conn.recv(65536)
        return True

    def _drip(self, conn: socket.socket, data: bytes) -> None:
        ends = time.monotonic() + DRIP_FOR
        for byte in data:
            if time.monotonic() > ends:
                return
            try:
                conn.sendall(bytes([byte]))
            except OSError:
                self.drips_cut += 1
                return
            time.sleep(DRIP_INTERVAL)


class ConnectProxy:
    """An HTTP proxy on loopback that only tunnels (``CONNECT``), as HTTPS_PROXY points at; counts tunnels."""

    def __init__(self) -> None:
        self.tunnels = 0
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(4096)
            if not chunk:
                client.close()
                return
            head += chunk
        host, _, port = head.split()[1].decode().rpartition(":")
        upstream = socket.create_connection((host, int(port)))
        self.tunnels += 1
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def upstream() -> Iterator[DripServer]:
    server = DripServer()
    yield server
    server.close()


@pytest.fixture
def certificate(tmp_path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1, made by Debian's openssl."""
    require(shutil.which("openssl") is not None, "openssl is not installed (apt-get install openssl)")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        + ["-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def tls_upstream(certificate) -> Iterator[DripServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    server = DripServer(context)
    yield server
    server.close()


def make_app(upstream: DripServer) -> Flask:
    app = configured_app(
        HMS_API_BASE_URL=upstream.url,
        HMS_REQUEST_TIMEOUT=TIMEOUT,
        HMS_MAX_CONCURRENT_CALLS=1,
        HMS_RATE_LIMIT="100 per minute",
    )
    HMSWebCall(app)
    return app


@pytest.mark.parametrize("where", ["status", "headers", "body"])
def test_a_drip_anywhere_in_the_answer_ends_at_the_deadline(upstream, where):
    upstream.scripts = [(where, "call-drip")]
    client = HMSClient(API_KEY, base_url=upstream.url, timeout=TIMEOUT)
    started = time.monotonic()
    with pytest.raises(HMSTimeoutError) as info:
        client.create_web_call(assistant_id=ASSISTANT_ID)
    elapsed = time.monotonic() - started
    # The drip would have held the request DRIP_FOR seconds; the deadline ends it within timeout + 1 s.
    assert elapsed < TIMEOUT + 1, f"{where}: {elapsed:.1f} s"
    assert API_KEY not in str(info.value) and TOKEN not in str(info.value)


def test_the_deadline_holds_on_a_pooled_connection(upstream):
    upstream.scripts = [("ok", "call-1"), ("chunked", "call-2"), ("body", "call-3")]
    client = HMSClient(API_KEY, base_url=upstream.url, timeout=TIMEOUT)
    assert client.create_web_call(assistant_id=ASSISTANT_ID).call_id == "call-1"
    assert client.create_web_call(assistant_id=ASSISTANT_ID).token == TOKEN
    started = time.monotonic()
    with pytest.raises(HMSTimeoutError):
        client.create_web_call(assistant_id=ASSISTANT_ID)
    assert time.monotonic() - started < TIMEOUT + 1
    assert upstream.connections == 1  # all three on one kept-alive connection


@pytest.mark.parametrize("where", ["status", "headers", "body"])
def test_the_visitor_gets_504_json_in_time_and_the_slot_is_free_again(upstream, where):
    # One call at a time for the whole org: the second create only succeeds if the first freed its slot.
    upstream.scripts = [(where, "call-cut"), ("ok", "call-next")]
    browser = make_app(upstream).test_client()
    started = time.monotonic()
    response = browser.post("/hms/web-calls", json={})
    elapsed = time.monotonic() - started
    assert response.status_code == 504, response.get_data(as_text=True)
    assert response.json["error"]["code"] == "upstream_timeout"
    assert elapsed < TIMEOUT + 1, f"{where}: {elapsed:.1f} s"
    again = browser.post("/hms/web-calls", json={})
    assert again.status_code == 201, again.get_data(as_text=True)
    assert again.json["call_id"] == "call-next"


def test_a_call_hms_may_have_created_is_logged_with_its_id(upstream, caplog):
    upstream.scripts = [("body", "call-orphan-7")]
    with caplog.at_level(logging.INFO, logger="flask_hms_webcall"):
        response = make_app(upstream).test_client().post("/hms/web-calls", json={})
    assert response.status_code == 504
    assert "call-orphan-7" in caplog.text
    assert TOKEN not in caplog.text and API_KEY not in caplog.text
    assert TOKEN not in response.get_data(as_text=True)


def test_without_a_call_id_the_log_still_says_a_call_may_exist(upstream, caplog):
    upstream.scripts = [("headers", "call-unseen")]
    with caplog.at_level(logging.INFO, logger="flask_hms_webcall"):
        assert make_app(upstream).test_client().post("/hms/web-calls", json={}).status_code == 504
    assert "may have created a call" in caplog.text


def test_a_body_that_follows_headers_ending_the_connection_is_read(upstream):
    # http.client closes its side as soon as it reads "Connection: close"; the body still comes through.
    upstream.scripts = [("close", "call-late-body")]
    client = HMSClient(API_KEY, base_url=upstream.url, timeout=TIMEOUT)
    assert client.create_web_call(assistant_id=ASSISTANT_ID).call_id == "call-late-body"


def test_over_https_through_a_proxy_read_from_the_environment_once(tls_upstream, certificate, monkeypatch):
    # The proxy and CA bundle variables are read when the client is made, not per call: they still apply.
    proxy = ConnectProxy()
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate[0]))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    try:
        client = HMSClient(API_KEY, base_url=tls_upstream.url, timeout=TIMEOUT)
        monkeypatch.delenv("HTTPS_PROXY")
        tls_upstream.scripts = [("ok", "call-tls"), ("headers", "call-tls-drip")]
        assert client.create_web_call(assistant_id=ASSISTANT_ID).call_id == "call-tls"
        assert proxy.tunnels == 1
        started = time.monotonic()
        with pytest.raises(HMSTimeoutError):
            client.create_web_call(assistant_id=ASSISTANT_ID)
        assert time.monotonic() - started < TIMEOUT + 1
    finally:
        proxy.close()
