"""The live feed keeps the last envelopes, remembers what just went at risk, and never
lets a slow browser hold it up."""

import json

from regia_console.feed import EventFeed, summary


def envelope(kind: str, **payload: object) -> bytes:
    return json.dumps(
        {
            "event_id": "e1",
            "type": kind,
            "key": "k",
            "occurred_at": "2026-11-25T10:00:00Z",
            "producer": "objectives",
            "payload": payload,
        }
    ).encode()


def test_only_envelopes_are_shown_and_never_their_payload() -> None:
    assert summary("t", b"not json") is None and summary("t", b"[1]") is None
    shown = summary("regia.notifications.v1", envelope("AlertDelivered", recipient="a@b.example"))
    assert shown is not None and "a@b.example" not in json.dumps(shown)


def test_an_objective_that_goes_at_risk_is_remembered_until_it_recovers() -> None:
    feed = EventFeed("unused:0", [], kept=2)
    feed.add(summary("o", envelope("ObjectiveStatusChanged", objective_id="miglio-blu", status="AT_RISK")))
    assert "miglio-blu" in feed.went_at_risk
    feed.add(summary("o", envelope("ObjectiveStatusChanged", objective_id="miglio-blu", status="FUNDED")))
    assert "miglio-blu" not in feed.went_at_risk
    feed.add(summary("o", envelope("FundingCommitted")))
    assert len(feed.recent) == 2  # only the last ones are kept


def test_a_browser_that_does_not_read_loses_events_and_the_feed_goes_on() -> None:
    feed = EventFeed("unused:0", [])
    slow = feed.listen()
    for _ in range(slow.maxsize + 5):
        feed.add(summary("t", envelope("FundingCommitted")))
    assert slow.full() and len(feed.recent) == feed.recent.maxlen


def test_with_the_owners_keys_the_feed_shows_only_what_they_signed() -> None:
    from types import SimpleNamespace

    from regia_shared.contracts import topics
    from regia_shared.messaging import signing

    from ..support.services import EVENT_KEYS

    value, key = envelope("FundingCommitted"), b"miglio-blu"
    genuine = [(signing.HEADER, EVENT_KEYS.sign("funding", topics.FUNDING, key, value).encode())]
    by_another = [(signing.HEADER, EVENT_KEYS.sign("objectives", topics.FUNDING, key, value).encode())]

    def record(headers: list) -> SimpleNamespace:
        return SimpleNamespace(topic=topics.FUNDING, key=key, value=value, headers=headers)

    feed = EventFeed("unused:0", [], keys=EVENT_KEYS)
    assert feed.genuine(record(genuine))
    assert not feed.genuine(record([])) and not feed.genuine(record(by_another))
    assert feed.forged == 2
    # Without keys to tell, every event is shown (the console warns at start).
    assert EventFeed("unused:0", []).genuine(record([]))
