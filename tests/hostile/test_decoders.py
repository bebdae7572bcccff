"""Hypothesis against the event decoders: whatever bytes arrive on a topic, `decode` answers
Received, Poison or Ignored, and never raises (a raise would rewind the batch and retry it
forever, blocking the partition). What it calls Received can be stored: no text in it that
PostgreSQL refuses (NUL) or cannot encode (a lone surrogate)."""

import json
import os
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.objectives import CoverageStatus, ObjectiveStatusChanged
from regia_shared.contracts.events.partners import ContactAdded
from regia_shared.contracts.events.registry import EVENT_TYPES
from regia_shared.contracts.levels import GovernmentLevel
from regia_shared.messaging import signing
from regia_shared.messaging.consumer import Ignored, Poison, Received, decode

from ..support.figures import record as report
from ..support.funding import line_event
from ..support.partners import institution_registered, objective_defined

LONG = os.environ.get("REGIA_VERIFY_LONG") == "1"
EXAMPLES = 2000 if LONG else 300
WANTED = frozenset(EVENT_TYPES) - {"AlertFailed"}  # one known type this consumer skips
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
tried = {"inputs": 0}


def record_of(value: bytes | None) -> ConsumerRecord:
    return ConsumerRecord(
        topic="regia.test.v1",
        partition=0,
        offset=0,
        timestamp=0,
        timestamp_type=0,
        key=b"k",
        value=value,
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=len(value or b""),
        headers=[],
    )


def judged(value: bytes | None) -> Received | Poison | Ignored:
    tried["inputs"] += 1
    # A topic no service owns: nothing to verify, so every byte reaches the decoder (the
    # signature check has its own tests: tests/unit/test_event_signing.py).
    outcome = decode(record_of(value), WANTED, keys=signing.EventKeys())
    assert isinstance(outcome, Received | Poison | Ignored), outcome
    if isinstance(outcome, Received):
        for text in _texts(outcome.envelope.model_dump(mode="json")) + _texts(outcome.payload.model_dump(mode="json")):
            assert "\x00" not in text, text
            text.encode("utf-8")  # no lone surrogate
    return outcome


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in [str(k), *_texts(v)]]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)


@SETTINGS
@given(st.binary(max_size=2000) | st.none())
def test_arbitrary_bytes_never_raise(value: bytes | None) -> None:
    judged(value)


@SETTINGS
@given(json_values)
def test_arbitrary_json_never_raises(value: Any) -> None:
    judged(json.dumps(value, allow_nan=True).encode())


def envelopes() -> st.SearchStrategy[dict]:
    """Envelopes that are right or nearly right, with a payload of a known type or junk."""
    text = st.text(max_size=30) | st.sampled_from(["\x00", "a\x00b", "\ud800", "x" * 300, ""])
    return st.fixed_dictionaries(
        {
            "event_id": st.uuids().map(str) | text,
            "type": st.sampled_from(sorted(EVENT_TYPES)) | text,
            "version": st.integers(min_value=-2, max_value=3) | st.just(10**30) | st.floats(),
            "key": st.just("miglio-blu") | text,
            "occurred_at": st.just(datetime.now(UTC).isoformat()) | text,
            "producer": st.just("funding") | text,
            "correlation_id": st.just("c-1") | text,
            "payload": st.dictionaries(
                st.sampled_from(_payload_fields()) | st.text(max_size=8), json_values | text, max_size=12
            ),
        }
    )


def _payload_fields() -> list[str]:
    return sorted({name for model in EVENT_TYPES.values() for name in model.model_fields})


@SETTINGS
@given(envelopes())
def test_envelopes_with_arbitrary_payloads_never_raise(value: dict) -> None:
    judged(json.dumps(value, allow_nan=True).encode())


def valid_envelopes() -> list[Envelope]:
    """Real events of several types, as their producers build them."""
    contact = ContactAdded(
        partner_id="lig", contact_id="rossi", name="Maria Rossi", email="maria.rossi@regione.liguria.it", language="it"
    )
    status = ObjectiveStatusChanged(
        objective_id="miglio-blu",
        title="Miglio Blu",
        fiscal_year=2027,
        previous_status=None,
        status=CoverageStatus.AT_RISK,
        coverage_bp=4550,
        need_cents=5_000_000_00,
        committed_cents=2_275_000_00,
        at_risk_threshold_pct=80,
    )
    return [
        line_event("commit", "LIG-1", "miglio-blu", 100, 1),
        institution_registered("regione-liguria", "Regione Liguria", GovernmentLevel.REGIONE),
        objective_defined("miglio-blu"),
        Envelope.wrap(contact, key="lig", producer="partners"),
        Envelope.wrap(status, key="miglio-blu", producer="objectives"),
    ]


VALID = [json.loads(e.to_json()) for e in valid_envelopes()]


@SETTINGS
@given(st.sampled_from(VALID), st.data())
def test_valid_events_with_hostile_text_in_one_field(valid: dict, data: st.DataObject) -> None:
    """A real event with one text field (of the envelope or the payload) swapped for
    hostile text: NUL is never Received (it would fail the handler's SQL, and be retried
    forever), and nothing raises."""
    raw = json.loads(json.dumps(valid))
    where = data.draw(st.sampled_from(["envelope", "payload"]))
    target = raw if where == "envelope" else raw["payload"]
    texts = sorted(k for k, v in target.items() if isinstance(v, str))
    field = data.draw(st.sampled_from(texts))
    target[field] = data.draw(
        st.sampled_from(["a\x00b", "\x00", "\ud800x", "x\udfff", "ok", "\u202e"]) | st.text(max_size=20)
    )
    outcome = judged(json.dumps(raw).encode())
    if "\x00" in target[field]:
        assert isinstance(outcome, Poison | Ignored), outcome


def test_zz_report() -> None:
    report("hostile events: decoder fuzzing", inputs=tried["inputs"], errors=0)
