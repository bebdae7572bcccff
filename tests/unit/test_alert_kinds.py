"""The kinds of alert are listed once (regia_shared.contracts.alert_kinds): the notifier's
triggers are among them, each has words in both languages, and the preferences event of
version 1 still reads, as version 2, for consumers catching up."""

import pytest

from regia_notifier.domain.occurrences import Trigger
from regia_shared.contracts.alert_kinds import ALERT_KINDS, CADENCES, KIND_CADENCES, alert_kind
from regia_shared.contracts.events import Envelope, parse_payload
from regia_shared.contracts.events.partners import ContactPreferencesChanged
from regia_shared.contracts.words import LANGUAGES, TRIGGER_WORDS


def test_every_trigger_of_the_notifier_is_a_kind_a_person_can_choose() -> None:
    assert {t.value for t in Trigger} <= set(ALERT_KINDS), "add the new kind to alert_kinds.ALERT_KINDS"


def test_every_kind_reads_as_words_in_each_language() -> None:
    for language in LANGUAGES:
        assert set(ALERT_KINDS) <= set(TRIGGER_WORDS[language]), language


def test_the_cadences_and_the_refusal_of_an_unknown_kind() -> None:
    assert CADENCES == ("immediate", "daily_digest", "weekly_digest")
    assert KIND_CADENCES == (*CADENCES, "off")
    assert alert_kind("line_revoked") == "line_revoked"
    with pytest.raises(ValueError, match="unknown kind of alert 'x': one of status_changed, funding_dropped"):
        alert_kind("x")


def test_a_version_1_preferences_event_reads_as_version_2_and_a_weekly_one_is_version_2() -> None:
    v1 = {
        "partner_id": "comune-spezia",
        "contact_id": "bianchi",
        "channels": ["email"],
        "language": "it",
        "cadence": "daily_digest",
        "event_kinds": ["status_changed"],
    }
    envelope = Envelope(
        event_id="6f1c1f7e-6a4b-4bd5-9d59-000000000001",  # type: ignore[arg-type]
        type="ContactPreferencesChanged",
        version=1,
        key="comune-spezia",
        occurred_at="2026-11-26T09:30:00+00:00",  # type: ignore[arg-type]
        producer="partners",
        correlation_id="c",
        payload=v1,
    )
    read = parse_payload(envelope)
    assert isinstance(read, ContactPreferencesChanged)
    assert read.kinds == {} and read.reason is None and read.cadence == "daily_digest"
    weekly = ContactPreferencesChanged(
        **{**v1, "cadence": "weekly_digest", "kinds": {"status_changed": "off"}, "reason": "one-click unsubscribe"}
    )
    wrapped = Envelope.wrap(weekly, key="comune-spezia", producer="partners")
    assert wrapped.version == 2 and parse_payload(wrapped) == weekly
