"""Webhook signature verification: what HMS signs is accepted, anything else is refused."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from flask_hms_webcall.errors import WebhookSignatureError
from flask_hms_webcall.signature import sign, signature_header, verify

SECRET = "whsec_test_0123456789"
BODY = b'{"message":{"type":"status-update","call":{"id":"3f2a1b4c","type":"web_call"}}}'
NOW = 1_732_400_000
TS = str(NOW)


def reference_signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over ``<timestamp>.<body>``, computed independently of the module under test."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def test_sign_matches_the_documented_scheme():
    assert sign(SECRET, TS, BODY) == reference_signature(SECRET, TS, BODY)
    assert signature_header(SECRET, NOW, BODY) == "sha256=" + reference_signature(SECRET, TS, BODY)


def test_good_signature_is_accepted():
    header = "sha256=" + reference_signature(SECRET, TS, BODY)
    assert verify(BODY, header, TS, [SECRET], now=NOW) is None


def test_timestamp_may_be_an_int():
    verify(BODY, signature_header(SECRET, NOW, BODY), NOW, SECRET, now=NOW)


def test_wrong_secret_is_refused():
    header = signature_header("whsec_someone_else", TS, BODY)
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify(BODY, header, TS, [SECRET], now=NOW)


@pytest.mark.parametrize(
    "tampered",
    [
        BODY.replace(b"status-update", b"end-of-call-report"),
        BODY + b" ",
        BODY[:-1],
        b"",
    ],
)
def test_tampered_body_is_refused(tampered):
    header = signature_header(SECRET, TS, BODY)
    with pytest.raises(WebhookSignatureError):
        verify(tampered, header, TS, [SECRET], now=NOW)


def test_timestamp_is_part_of_what_is_signed():
    # A signature replayed with a fresher timestamp must not verify.
    header = signature_header(SECRET, NOW - 1000, BODY)
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify(BODY, header, TS, [SECRET], now=NOW)


@pytest.mark.parametrize("which", [0, 1, 2])
def test_any_of_several_secrets_verifies_during_rotation(which):
    secrets = ["whsec_old", "whsec_current", "whsec_next"]
    verify(BODY, signature_header(secrets[which], TS, BODY), TS, secrets, now=NOW)


def test_rotation_list_without_the_signing_secret_is_refused():
    with pytest.raises(WebhookSignatureError):
        verify(BODY, signature_header("whsec_retired", TS, BODY), TS, ["whsec_old", "whsec_new"], now=NOW)


def test_empty_entries_in_the_secret_list_are_ignored():
    # An empty secret would let anyone who signs with "" through; it must never count as configured.
    header = signature_header("", TS, BODY)
    with pytest.raises(WebhookSignatureError):
        verify(BODY, header, TS, ["", SECRET], now=NOW)
    verify(BODY, signature_header(SECRET, TS, BODY), TS, ["", SECRET], now=NOW)


def test_sha256_prefix_is_optional():
    bare = reference_signature(SECRET, TS, BODY)
    verify(BODY, bare, TS, [SECRET], now=NOW)
    verify(BODY, "sha256=" + bare, TS, [SECRET], now=NOW)


def test_uppercase_hex_and_surrounding_whitespace_are_accepted():
    verify(BODY, "  sha256=" + reference_signature(SECRET, TS, BODY).upper() + " ", TS, [SECRET], now=NOW)


@pytest.mark.parametrize("offset", [-301, 301, -86_400, 86_400])
def test_timestamps_beyond_the_tolerance_are_refused_both_ways(offset):
    ts = NOW + offset
    header = signature_header(SECRET, ts, BODY)
    with pytest.raises(WebhookSignatureError, match="tolerance"):
        verify(BODY, header, ts, [SECRET], tolerance=300, now=NOW)


@pytest.mark.parametrize("offset", [-300, 300, 0])
def test_timestamps_exactly_at_the_tolerance_are_accepted(offset):
    ts = NOW + offset
    verify(BODY, signature_header(SECRET, ts, BODY), ts, [SECRET], tolerance=300, now=NOW)


def test_tolerance_is_configurable():
    ts = NOW - 30
    header = signature_header(SECRET, ts, BODY)
    verify(BODY, header, ts, [SECRET], tolerance=30, now=NOW)
    with pytest.raises(WebhookSignatureError):
        verify(BODY, header, ts, [SECRET], tolerance=29, now=NOW)


def test_default_now_is_the_current_time():
    import time

    ts = int(time.time())
    verify(BODY, signature_header(SECRET, ts, BODY), ts, [SECRET])
    old = ts - 3600
    with pytest.raises(WebhookSignatureError):
        verify(BODY, signature_header(SECRET, old, BODY), old, [SECRET])


@pytest.mark.parametrize("signature", [None, "", "   "])
def test_missing_signature_is_refused(signature):
    with pytest.raises(WebhookSignatureError):
        verify(BODY, signature, TS, [SECRET], now=NOW)


@pytest.mark.parametrize("timestamp", [None, "", " "])
def test_missing_timestamp_is_refused(timestamp):
    with pytest.raises(WebhookSignatureError, match="Timestamp"):
        verify(BODY, signature_header(SECRET, TS, BODY), timestamp, [SECRET], now=NOW)


@pytest.mark.parametrize(
    "timestamp",
    ["abc", "1732400000.5", "-1732400000", "1e9", "0x6740", "１７３２４０００００", "17324000001234567890"],
)
def test_non_digit_or_absurd_timestamps_are_refused(timestamp):
    # The signature is valid for the given text, so only the timestamp check can refuse it.
    header = "sha256=" + reference_signature(SECRET, timestamp, BODY)
    with pytest.raises(WebhookSignatureError, match="malformed"):
        verify(BODY, header, timestamp, [SECRET], now=NOW)


@pytest.mark.parametrize(
    "signature",
    ["sha256=", "sha256=zz", "sha1=" + "0" * 40, "sha256=" + "0" * 64, "sha256=é" + "0" * 63, "garbage"],
)
def test_malformed_signatures_are_refused(signature):
    with pytest.raises(WebhookSignatureError):
        verify(BODY, signature, TS, [SECRET], now=NOW)


@pytest.mark.parametrize("secrets", [[], [""], "", ()])
def test_no_secret_configured_refuses_everything(secrets):
    header = signature_header(SECRET, TS, BODY)
    with pytest.raises(WebhookSignatureError, match="no webhook secret"):
        verify(BODY, header, TS, secrets, now=NOW)


def test_a_single_secret_may_be_given_as_a_string():
    verify(BODY, signature_header(SECRET, TS, BODY), TS, SECRET, now=NOW)
    with pytest.raises(WebhookSignatureError):
        verify(BODY, signature_header(SECRET, TS, BODY), TS, "whsec_other", now=NOW)
