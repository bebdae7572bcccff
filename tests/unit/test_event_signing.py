"""Signed internal events (regia_shared.messaging.signing): the owner's key signs the bytes,
the topic and the key; rotation (newest signs, any verifies); every way a record can fail
to be its owner's; keys that are never echoed; a service that will not start without them;
and the shared consumer's verdict on a forged record."""

import asyncio
import base64
import hashlib
import hmac

import pytest
from aiokafka import ConsumerRecord
from pydantic import ValidationError

from regia_shared.contracts import topics
from regia_shared.messaging import signing
from regia_shared.messaging.consumer import Ignored, Poison, Received, decode
from regia_shared.runtime import ServiceRuntime
from regia_shared.settings import ServiceSettings

from ..support.funding import line_event

SECRET_F1 = "funding-secret-one-0123456789abcdef-xyz"
SECRET_F2 = "funding-secret-two-0123456789abcdef-xyz"
SECRET_O1 = "objectives-secret-0123456789abcdef-xyz"
KEYS = signing.EventKeys.parse(f"funding=f2:{SECRET_F2},funding=f1:{SECRET_F1},objectives=o1:{SECRET_O1}")
VALUE = b'{"type": "FundingCommitted"}'


def header(keys: signing.EventKeys, service: str, topic: str = topics.FUNDING, key: bytes | None = b"k") -> bytes:
    return keys.sign(service, topic, key, VALUE).encode()


def test_the_owner_signs_and_its_readers_verify() -> None:
    signed = header(KEYS, "funding")
    assert signed.startswith(b"f2:")  # the newest key signs
    assert KEYS.verify(topics.FUNDING, b"k", VALUE, signed) is None
    # A reader holding only funding's keys (the objectives service, say) verifies it too.
    assert KEYS.only(["funding"]).verify(topics.FUNDING, b"k", VALUE, signed) is None


@pytest.mark.parametrize("key", [b"obj-7", None])
def test_the_signature_is_the_documented_hmac_over_the_framed_bytes(key: bytes | None) -> None:
    # Computed here from the format alone (docstring of signing.signed_bytes), not with the
    # module's helpers: services of two releases must read each other's signatures, so the
    # bytes the MAC covers may not change with how it is computed.
    topic = topics.FUNDING.encode()
    framed_key = b"\x00" if key is None else b"\x01" + len(key).to_bytes(4, "big") + key
    covered = b"regia-event-signature/1\n" + len(topic).to_bytes(4, "big") + topic + framed_key + VALUE
    expected = base64.b64encode(hmac.new(SECRET_F2.encode(), covered, hashlib.sha256).digest()).decode()
    assert KEYS.sign("funding", topics.FUNDING, key, VALUE) == f"f2:{expected}"
    assert KEYS.sign("funding", topics.FUNDING, key, VALUE) == f"f2:{expected}"  # the kept key, used again


def test_rotation_the_old_key_still_verifies_until_it_is_dropped() -> None:
    old = header(signing.EventKeys.parse(f"funding=f1:{SECRET_F1}"), "funding")
    assert KEYS.verify(topics.FUNDING, b"k", VALUE, old) is None  # f1 is still listed
    after = signing.EventKeys.parse(f"funding=f2:{SECRET_F2}")
    forged = after.verify(topics.FUNDING, b"k", VALUE, old)
    assert forged is not None and forged.reason == "unknown_key"
    assert forged.error == "forged: not signed by funding (key 'f1' is not one of funding's keys, unknown)"


@pytest.mark.parametrize(
    ("topic", "key", "value"),
    [
        (topics.FUNDING, b"k", VALUE + b" "),  # one byte more
        (topics.FUNDING, b"k", VALUE.replace(b"Committed", b"Commitxed")),  # one byte changed
        (topics.FUNDING, b"other", VALUE),  # replayed onto another key
        (topics.FUNDING, None, VALUE),  # or with no key
        (topics.FUNDING_INBOUND_REJECTED, b"k", VALUE),  # or onto another topic funding owns
    ],
)
def test_changed_bytes_another_key_or_topic_do_not_verify(topic: str, key: bytes | None, value: bytes) -> None:
    forged = KEYS.verify(topic, key, value, header(KEYS, "funding"))
    assert forged is not None and forged.reason == "mismatch"
    assert forged.error.startswith("forged: not signed by funding (the signature does not match funding's key 'f2'")


def test_a_record_signed_by_another_service_is_not_the_owners() -> None:
    by_objectives = header(KEYS, "objectives", topics.FUNDING)
    forged = KEYS.verify(topics.FUNDING, b"k", VALUE, by_objectives)
    assert forged is not None and forged.reason == "unknown_key"
    assert forged.error == "forged: not signed by funding (key 'o1' is not one of funding's keys but objectives's)"
    # Moved from objectives' topic to funding's, a real objectives event is refused too.
    moved = KEYS.verify(topics.FUNDING, b"k", VALUE, header(KEYS, "objectives", topics.OBJECTIVES))
    assert moved is not None and moved.reason == "unknown_key"


def test_a_forger_knowing_a_key_id_but_not_the_secret_fails() -> None:
    guessed = signing.EventKeys.parse("funding=f2:" + "x" * 40)
    forged = KEYS.verify(topics.FUNDING, b"k", VALUE, header(guessed, "funding"))
    assert forged is not None and forged.reason == "mismatch"


@pytest.mark.parametrize(
    ("sent", "reason"),
    [
        (None, "unsigned"),
        (b"f2", "malformed"),
        (b"f2:not base64!", "malformed"),
        (b"f2:AAAA", "malformed"),  # base64, but not a SHA-256 MAC's length
        (b":" + b"A" * 44, "malformed"),  # no key id
    ],
)
def test_unsigned_and_malformed_signatures(sent: bytes | None, reason: str) -> None:
    forged = KEYS.verify(topics.FUNDING, b"k", VALUE, sent)
    assert forged is not None and forged.reason == reason
    assert forged.error.startswith("forged: not signed by funding (")


def test_two_signature_headers_are_ambiguous() -> None:
    signed = header(KEYS, "funding")
    assert signing.record_signature([(signing.HEADER, signed)]) == signed
    twice = signing.record_signature([(signing.HEADER, signed), (signing.HEADER, signed)])
    forged = KEYS.verify(topics.FUNDING, b"k", VALUE, twice)
    assert forged is not None and forged.reason == "malformed"


def test_the_inbound_topic_is_not_signed() -> None:
    assert signing.owner(topics.FUNDING_INBOUND) is None
    assert KEYS.verify(topics.FUNDING_INBOUND, b"k", VALUE, None) is None
    assert KEYS.headers_for("funding", topics.FUNDING_INBOUND, b"k", VALUE) == []


def test_a_service_signs_only_its_own_topics() -> None:
    assert [name for name, _ in KEYS.headers_for("funding", topics.FUNDING, b"k", VALUE)] == [signing.HEADER]
    with pytest.raises(signing.MissingEventKeys, match="objectives's topic"):
        KEYS.headers_for("funding", topics.OBJECTIVES, b"k", VALUE)
    with pytest.raises(signing.MissingEventKeys, match="no key of partners"):
        KEYS.sign("partners", topics.PARTNERS, b"k", VALUE)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("funding", "entry 1 is not service=key_id:secret"),
        (f"funding=f1{SECRET_F1}", "entry 1 is not service=key_id:secret"),
        (f"funding=f1:{SECRET_F1},budget=b1:{SECRET_F2}", "entry 2 names 'budget'"),
        (f"funding=f 1:{SECRET_F1}", "entry 1 (funding): the key id"),
        ("funding=f1:short-secret", "entry 1 (funding, key f1): the secret must be at least 32"),
        (f"funding=f1:{SECRET_F1},funding=f1:{SECRET_F2}", "key id 'f1' of funding is given twice"),
    ],
)
def test_malformed_keys_are_refused_without_echoing_a_secret(text: str, said: str) -> None:
    with pytest.raises(signing.EventKeyError) as caught:
        signing.EventKeys.parse(text)
    assert said in str(caught.value)
    for secret in (SECRET_F1, SECRET_F2, "short-secret"):
        assert secret not in str(caught.value)


def test_settings_hold_the_keys_as_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(signing.VARIABLE, f"funding=f2:{SECRET_F2}, funding=f1:{SECRET_F1}")
    settings = ServiceSettings()
    assert [k.key_id for k in settings.event_keys.of("funding")] == ["f2", "f1"]
    for shown in (repr(settings), str(settings), repr(settings.event_keys), repr(settings.event_keys.of("funding"))):
        assert SECRET_F1 not in shown and SECRET_F2 not in shown
    monkeypatch.setenv(signing.VARIABLE, "funding=f1:too-short-a-secret")
    with pytest.raises(ValidationError) as caught:
        ServiceSettings()
    assert "at least 32 characters" in str(caught.value) and "too-short-a-secret" not in str(caught.value)


def test_a_service_without_its_keys_refuses_to_start() -> None:
    def runtime(keys: str | None) -> ServiceRuntime:
        settings = ServiceSettings(event_signing_keys=keys, database_url="postgresql://nobody@127.0.0.1:9/none")
        return ServiceRuntime(
            name="funding",
            settings=settings,
            migrations_package="regia_funding",
            publishes=[topics.FUNDING, topics.FUNDING_INBOUND_REJECTED],
            consumes=[topics.PARTNERS, topics.OBJECTIVES, topics.FUNDING_INBOUND],
        )

    # Refused before anything is connected: the database above does not exist.
    with pytest.raises(signing.MissingEventKeys) as caught:
        asyncio.run(runtime(None).start())
    message = str(caught.value)
    assert message.startswith(f"funding cannot start: {signing.VARIABLE} lacks its own key")
    assert "objectives's key, to verify regia.objectives.v1" in message
    assert "partners's key, to verify regia.partners.v1" in message
    # Only the objectives and partners keys: it still may not publish unsigned.
    with pytest.raises(signing.MissingEventKeys, match="lacks its own key") as caught:
        asyncio.run(runtime(f"objectives=o1:{SECRET_O1},partners=p1:{SECRET_O1}").start())
    assert SECRET_O1 not in str(caught.value)
    complete = runtime(f"funding=f1:{SECRET_F1},objectives=o1:{SECRET_O1},partners=p1:{SECRET_O1}")
    complete.check_event_keys()  # nothing lacking


def test_each_service_is_given_the_keys_its_topics_need() -> None:
    """signing.HELD_BY (what `regia up` and the deployment give each service) is what each
    composition root's topics need."""
    from regia_funding.app import create_app as funding
    from regia_notifier.app import create_app as notifier
    from regia_objectives.app import create_app as objectives
    from regia_partners.app import create_app as partners

    for name, create in (
        ("funding", funding),
        ("objectives", objectives),
        ("partners", partners),
        ("notifier", notifier),
    ):
        runtime = create().state.runtime
        assert signing.needed_by(runtime.publishes, runtime.consumes) == set(signing.HELD_BY[name]), name
        everything = signing.generate("t")
        assert everything.only(signing.HELD_BY[name]).missing(name, runtime.publishes, runtime.consumes) == []


def record(value: bytes, headers: list[tuple[str, bytes]], topic: str = topics.FUNDING) -> ConsumerRecord:
    return ConsumerRecord(
        topic=topic,
        partition=0,
        offset=3,
        timestamp=0,
        timestamp_type=0,
        key=b"miglio-blu",
        value=value,
        checksum=None,
        serialized_key_size=10,
        serialized_value_size=len(value),
        headers=headers,
    )


def test_the_consumer_sets_a_forged_record_aside_unread() -> None:
    event = line_event("commit", "L1", "miglio-blu", 100, 1)
    value, wanted = event.to_json(), frozenset({"FundingCommitted"})
    signed = KEYS.sign("funding", topics.FUNDING, b"miglio-blu", value).encode()
    assert isinstance(decode(record(value, [(signing.HEADER, signed)]), wanted, keys=KEYS), Received)
    for headers, reason in (
        ([], "unsigned"),
        ([(signing.HEADER, KEYS.sign("objectives", topics.FUNDING, b"miglio-blu", value).encode())], "unknown_key"),
    ):
        verdict = decode(record(value, headers), wanted, keys=KEYS)
        assert isinstance(verdict, Poison) and verdict.forged == reason
        assert verdict.error.startswith("forged: not signed by funding")
        assert verdict.type is None  # never parsed
    # A consumer that holds no key at all (a broker nobody registered keys for) refuses all.
    verdict = decode(record(value, [(signing.HEADER, signed)]), wanted, keys=signing.EventKeys())
    assert isinstance(verdict, Poison) and verdict.forged == "unknown_key"
    # A type this consumer skips is skipped by its header, signed or not: nothing is applied.
    skipped = decode(record(value, [("type", b"FundingRevoked")]), wanted, keys=KEYS)
    assert isinstance(skipped, Ignored)
