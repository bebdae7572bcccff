"""Webhook signatures: what a receiver checks before trusting a Regia alert."""

from regia_notifier.domain.signature import sign, verify

SECRET = "s3cr3t-signing-key"
BODY = b'{"event_id": "e1", "type": "ObjectiveStatusChanged"}'
NOW = 1_800_000_000


def test_a_signature_verifies_with_the_same_secret_body_and_timestamp() -> None:
    header = sign(SECRET, NOW, BODY)
    assert header.startswith("v1=") and len(header) == 3 + 64
    assert verify(SECRET, header, NOW, BODY, now=NOW)
    assert verify(SECRET, header, str(NOW), BODY, now=NOW + 299)  # header values are text


def test_a_tampered_body_is_rejected() -> None:
    header = sign(SECRET, NOW, BODY)
    assert not verify(SECRET, header, NOW, BODY.replace(b"e1", b"e2"), now=NOW)


def test_a_wrong_secret_is_rejected() -> None:
    assert not verify(SECRET, sign("another-secret", NOW, BODY), NOW, BODY, now=NOW)


def test_a_changed_timestamp_is_rejected() -> None:
    assert not verify(SECRET, sign(SECRET, NOW, BODY), NOW + 1, BODY, now=NOW)


def test_a_stale_timestamp_is_a_replay_even_with_a_valid_signature() -> None:
    header = sign(SECRET, NOW, BODY)
    assert not verify(SECRET, header, NOW, BODY, now=NOW + 301)
    assert not verify(SECRET, header, NOW, BODY, now=NOW + 10, tolerance_s=5)
    assert not verify(SECRET, header, NOW, BODY, now=NOW - 301)  # from the future, too


def test_garbage_headers_are_rejected_not_raised() -> None:
    assert not verify(SECRET, "", NOW, BODY, now=NOW)
    assert not verify(SECRET, "v1=zz", NOW, BODY, now=NOW)
    assert not verify(SECRET, sign(SECRET, NOW, BODY), "not-a-number", BODY, now=NOW)
