"""Signed internal events: who may put an event on a topic that Regia's services consume.

Without this, any client that can produce to `regia.funding.v1` (an institution given
broker access for the inbound topic, a leaked broker credential) could write a
well-formed envelope there, and the objectives and notifier consumers would apply it as
funding's. So every record a service publishes on a topic it owns (`topics.OWNER`) carries
an HMAC-SHA256 signature made with that service's own key, in a Kafka header:

    regia-signature: <key_id>:<base64 of the MAC>

The MAC covers the exact bytes the consumer receives (the record's value), the topic and
the record's key, framed so that no two different triples give the same input: a signed
event cannot be moved to another topic or another key, nor changed by a byte. The header
keeps the envelope contract as it is (no field added to any event).

The shared consumer (`consumer.py`) checks each record of a signed topic against the
topic owner's keys before reading it; an unsigned record, one whose MAC does not match,
or one signed with a key that is not the owner's is dead-lettered as forged and nothing of
it is applied. The inbound topic is not signed: institutions write it, each message with
its institution key (funding checks that key per message).

Why HMAC and not a signature scheme (Ed25519): a MAC costs about 2 µs per event, an Ed25519
verification about 120 µs, a third of what a projection spends on an event. The price is
that a verifying key is also a signing key: a consumer holding funding's key could sign as
funding. So this protects Regia's topics from everyone *outside* its own services
(institutions, a leaked broker credential), not one Regia service from another; that is
the trade-off docs/security.md states.

Keys (`REGIA_EVENT_SIGNING_KEYS`): `service=key_id:secret` entries, comma-separated, several
per service while one is replaced, newest first: the first of a service signs, any of them
verifies. A service holds its own keys (to sign) and the keys of the owners of the topics
it consumes (to verify); it refuses to start without them (`ServiceRuntime.start`).
Secrets are never logged, echoed in an error or shown in a repr.
"""

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from faststream.kafka import KafkaBroker

from regia_shared.contracts import topics
from regia_shared.contracts.catalogue import SERVICE_NAMES

HEADER = "regia-signature"
VARIABLE = "REGIA_EVENT_SIGNING_KEYS"
MIN_SECRET_CHARS = 32
# Said before the framed fields, so the key vouches for Regia's events and nothing else.
_DOMAIN = b"regia-event-signature/1\n"
_KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_MAC_BYTES = hashlib.sha256().digest_size


class EventKeyError(ValueError):
    """REGIA_EVENT_SIGNING_KEYS cannot be read; the message never holds a secret."""


class MissingEventKeys(RuntimeError):
    """A service was started without a key it needs to sign or verify; names which."""


@dataclass(frozen=True)
class EventKey:
    service: str
    key_id: str
    secret: bytes = field(repr=False)

    def __repr__(self) -> str:  # the dataclass's would hide the secret too; said explicitly
        return f"EventKey(service={self.service!r}, key_id={self.key_id!r}, secret=**********)"


@dataclass(frozen=True)
class Forged:
    """Why a record is not the topic owner's: `reason` is a metric label, `error` the
    dead letter's text (it names what failed; never a secret, never the MAC)."""

    reason: str  # unsigned | malformed | unknown_key | mismatch
    error: str


def signed_bytes(topic: str, key: bytes | None, value: bytes) -> bytes:
    """What the MAC covers: the topic and the key, each with its length (a missing key is
    not an empty one), then the value as it travels."""
    name = topic.encode()
    framed_key = b"\x00" if key is None else b"\x01" + len(key).to_bytes(4, "big") + key
    return b"".join((_DOMAIN, len(name).to_bytes(4, "big"), name, framed_key, value))


def _mac(secret: bytes, topic: str, key: bytes | None, value: bytes) -> bytes:
    """The MAC of a record, from scratch: what `EventKeys` computes, faster (`_Keyed`)."""
    return hmac.new(secret, signed_bytes(topic, key, value), hashlib.sha256).digest()


class _Keyed:
    """The MACs of one key over one topic's records. An HMAC started with the secret and
    fed the domain and the framed topic once is copied for each record, which then costs
    its key and value only: keying an HMAC (two hashed blocks and an OpenSSL context) and
    joining the framed bytes into a copy of the value cost more than hashing a 1 kB value
    (3.8 µs a record, against 2.4 µs so). The same bytes are hashed as by `_mac`."""

    __slots__ = ("_started",)

    def __init__(self, secret: bytes, topic: str) -> None:
        name = topic.encode()
        self._started = hmac.new(secret, _DOMAIN + len(name).to_bytes(4, "big") + name, hashlib.sha256)

    def mac(self, key: bytes | None, value: bytes) -> bytes:
        h = self._started.copy()
        h.update(b"\x00" if key is None else b"\x01" + len(key).to_bytes(4, "big") + key)
        h.update(value)
        return h.digest()


def owner(topic: str) -> str | None:
    """The service whose key signs `topic`; None for a topic that is not signed (the
    inbound topic, dead-letter topics)."""
    return topics.OWNER.get(topic)


class EventKeys:
    """The keys one process holds, by service, each service's newest first."""

    def __init__(self, keys: Iterable[EventKey] = ()) -> None:
        by_service: dict[str, list[EventKey]] = {}
        for k in keys:
            held = by_service.setdefault(k.service, [])
            if any(h.key_id == k.key_id for h in held):
                raise EventKeyError(f"{VARIABLE}: key id {k.key_id!r} of {k.service} is given twice")
            held.append(k)
        self._by_service = {s: tuple(ks) for s, ks in by_service.items()}
        self._by_id = {s: {k.key_id: k for k in ks} for s, ks in by_service.items()}
        # (service, key id, topic) -> its started MAC, made on first use (few: a service's
        # topics times its keys).
        self._keyed: dict[tuple[str, str, str], _Keyed] = {}

    def _mac(self, k: EventKey, topic: str, key: bytes | None, value: bytes) -> bytes:
        found = self._keyed.get((k.service, k.key_id, topic))
        if found is None:
            found = self._keyed[(k.service, k.key_id, topic)] = _Keyed(k.secret, topic)
        return found.mac(key, value)

    def __repr__(self) -> str:
        held = ", ".join(f"{s}: {[k.key_id for k in ks]}" for s, ks in sorted(self._by_service.items()))
        return f"EventKeys({held})"

    @classmethod
    def parse(cls, text: str) -> "EventKeys":
        """Read `service=key_id:secret,...`. A malformed entry is named by its position, its
        service and key id, never by its secret."""
        keys = []
        for n, raw in enumerate((e.strip() for e in text.split(",")), start=1):
            if not raw:
                continue
            service, eq, rest = raw.partition("=")
            key_id, colon, secret = rest.partition(":")
            service, key_id, secret = service.strip(), key_id.strip(), secret.strip()
            if not eq or not colon:
                raise EventKeyError(f"{VARIABLE}: entry {n} is not service=key_id:secret")
            if service not in SERVICE_NAMES:
                raise EventKeyError(
                    f"{VARIABLE}: entry {n} names {service[:40]!r}, not one of {', '.join(SERVICE_NAMES)}"
                )
            if not _KEY_ID.match(key_id):
                raise EventKeyError(
                    f"{VARIABLE}: entry {n} ({service}): the key id must be 1-64 letters, digits, '.', '_' or '-'"
                )
            if len(secret) < MIN_SECRET_CHARS:
                raise EventKeyError(
                    f"{VARIABLE}: entry {n} ({service}, key {key_id}): the secret must be at least "
                    f"{MIN_SECRET_CHARS} characters"
                )
            keys.append(EventKey(service, key_id, secret.encode()))
        return cls(keys)

    def of(self, service: str) -> tuple[EventKey, ...]:
        return self._by_service.get(service, ())

    def services(self) -> frozenset[str]:
        return frozenset(self._by_service)

    def only(self, services: Iterable[str]) -> "EventKeys":
        """The same keys, limited to those services (what one service is given)."""
        wanted = set(services)
        return EventKeys(k for s, ks in self._by_service.items() if s in wanted for k in ks)

    def text(self) -> str:
        """The `REGIA_EVENT_SIGNING_KEYS` value holding these keys (a secret: never log it)."""
        return ",".join(f"{k.service}={k.key_id}:{k.secret.decode()}" for ks in self._by_service.values() for k in ks)

    def sign(self, service: str, topic: str, key: bytes | None, value: bytes) -> str:
        """The header value that signs a record as `service`'s, with its newest key."""
        held = self.of(service)
        if not held:
            raise MissingEventKeys(f"no key of {service} in {VARIABLE}: cannot sign {topic}")
        newest = held[0]
        return f"{newest.key_id}:{base64.b64encode(self._mac(newest, topic, key, value)).decode()}"

    def headers_for(self, service: str, topic: str, key: bytes | None, value: bytes) -> list[tuple[str, bytes]]:
        """The signature header of a record `service` publishes: none on an unsigned topic.
        A service publishing on a topic another service owns is a bug: refused."""
        signer = owner(topic)
        if signer is None:
            return []
        if signer != service:
            raise MissingEventKeys(f"{service} may not publish on {topic}: it is {signer}'s topic")
        return [(HEADER, self.sign(service, topic, key, value).encode())]

    def verify(self, topic: str, key: bytes | None, value: bytes, header: bytes | None) -> Forged | None:
        """None when the record is signed by `topic`'s owner with one of its keys held here;
        otherwise why not. A topic without an owner is not signed: always None."""
        signer = owner(topic)
        if signer is None:
            return None
        lead = f"forged: not signed by {signer}"
        if header is None:
            return Forged("unsigned", f"{lead} (no {HEADER} header)")
        key_id, colon, encoded = header.decode(errors="replace").partition(":")
        try:
            mac = base64.b64decode(encoded.encode(), validate=True) if colon else b""
        except (binascii.Error, ValueError):
            mac = b""
        if len(mac) != _MAC_BYTES or not _KEY_ID.match(key_id):
            return Forged("malformed", f"{lead} (the {HEADER} header is not <key_id>:<base64 HMAC-SHA256>)")
        held = self._by_id.get(signer, {})
        if key_id not in held:
            others = [s for s in sorted(self._by_service) if s != signer and key_id in {k.key_id for k in self.of(s)}]
            whose = f" but {others[0]}'s" if others else ", unknown"
            return Forged("unknown_key", f"{lead} (key {key_id!r} is not one of {signer}'s keys{whose})")
        if not hmac.compare_digest(mac, self._mac(held[key_id], topic, key, value)):
            return Forged(
                "mismatch",
                f"{lead} (the signature does not match {signer}'s key {key_id!r} over these bytes, this topic and key)",
            )
        return None

    def missing(self, service: str, publishes: Sequence[str], consumes: Sequence[str]) -> list[str]:
        """What a service that publishes and consumes these topics lacks, in words."""
        lacking = []
        if any(owner(t) == service for t in publishes) and not self.of(service):
            lacking.append(f"its own key, to sign what it publishes ({service}=<key_id>:<secret>)")
        for signer in sorted({s for t in consumes if (s := owner(t)) is not None and s != service}):
            if not self.of(signer):
                lacking.append(f"{signer}'s key, to verify {', '.join(t for t in consumes if owner(t) == signer)}")
        return lacking


def record_signature(headers: Sequence[tuple[str, bytes]] | None) -> bytes | None:
    """The record's signature header; two of them are ambiguous, so read as malformed."""
    found = [v for k, v in headers or () if k == HEADER]
    if len(found) > 1:
        return b"(twice)"
    return found[0] if found else None


# What the shared consumer and the dead-letter replay find through the broker they are
# given, the way they find their metrics (metrics_consumer): the runtime registers the keys,
# and services keep calling `consumer.subscribe` as before. A broker nobody registered keys
# for holds none: every record of a signed topic is then refused as forged (fail closed).
_BY_BROKER: "weakref.WeakKeyDictionary[KafkaBroker, EventKeys]" = weakref.WeakKeyDictionary()


def register(broker: KafkaBroker, keys: EventKeys) -> None:
    _BY_BROKER[broker] = keys


def keys_of(broker: KafkaBroker) -> EventKeys:
    return _BY_BROKER.get(broker) or EventKeys()


# The services whose keys each service holds: its own (to sign) and the owners' of the
# topics it consumes (to verify), as the composition roots declare them (`publishes`,
# `consumes`; tests/unit/test_event_signing.py checks the two agree). What `regia up`, the
# deployment files and `regia deploy-secrets` give each service.
HELD_BY: dict[str, tuple[str, ...]] = {
    "funding": ("funding", "objectives", "partners"),
    "objectives": ("objectives", "funding", "partners"),
    "partners": ("partners", "objectives"),
    "notifier": ("notifier", "funding", "objectives", "partners"),
}


def generate(key_id_suffix: str) -> "EventKeys":
    """A fresh key for every service, its id `<service>-<suffix>` (e.g. the date it was made)."""
    return EventKeys(EventKey(s, f"{s}-{key_id_suffix}", secrets.token_urlsafe(32).encode()) for s in SERVICE_NAMES)


def needed_by(publishes: Sequence[str], consumes: Sequence[str]) -> frozenset[str]:
    """The services whose keys a service publishing and consuming these topics needs."""
    return frozenset(s for t in (*publishes, *consumes) if (s := owner(t)) is not None)


def by_service(keys: Mapping[str, Sequence[tuple[str, str]]]) -> EventKeys:
    """Keys from {service: [(key_id, secret), ...]} (newest first): for tools and tests."""
    return EventKeys(EventKey(s, kid, secret.encode()) for s, pairs in keys.items() for kid, secret in pairs)
