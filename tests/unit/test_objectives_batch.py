"""A batch of funding events as the objectives consumer applies it, without I/O: the newest
version of each line wins whatever the order (and repeats) of the batch, and each
objective-year carries the cause of a version that counted."""

from hypothesis import given
from hypothesis import strategies as st

from regia_objectives.service_layer.projection import newest_of_batch
from regia_shared.contracts.events.registry import parse_payload
from regia_shared.messaging.consumer import Received

from ..support.funding import line_event


def received(kind: str, line: str, objective: str, committed: int, version: int, year: int = 2027) -> Received:
    envelope = line_event(kind, line, objective, committed, version, year=year)
    return Received(envelope, parse_payload(envelope))


A1, A2, A3 = (
    received("commit", "A", "obj-1", 10, 1),
    received("revise", "A", "obj-1", 20, 2),
    received("revise", "A", "obj-1", 30, 3),
)
B1, B2 = received("commit", "B", "obj-1", 5, 1), received("revise", "B", "obj-1", 7, 2)
C1 = received("commit", "C", "obj-2", 100, 1, year=2028)
BATCH = [A1, A2, A3, B1, B2, C1]


@given(st.permutations(BATCH), st.lists(st.sampled_from(BATCH), max_size=6))
def test_newest_version_of_each_line_wins_in_any_order(order: list[Received], repeats: list[Received]) -> None:
    changes, causes = newest_of_batch(order + repeats)
    states = [c.state for c in changes]
    # The history keeps the winning event's type and correlation id with its state.
    assert {c.state.line_id: c.kind for c in changes}["B"] == B2.envelope.type
    assert {s.line_id: (s.line_version, s.committed_cents) for s in states} == {
        "A": (3, 30),
        "B": (2, 7),
        "C": (1, 100),
    }
    assert len(states) == 3  # one state per line: the upsert may not touch a row twice
    # The cause of an objective-year is the event of a winning version, never an older one
    # that happened to arrive last.
    winners = {A3.envelope.event_id, B2.envelope.event_id}
    assert set(causes) == {("obj-1", 2027), ("obj-2", 2028)}
    assert causes[("obj-1", 2027)].causation_id in {str(w) for w in winners}
    assert causes[("obj-2", 2028)].causation_id == str(C1.envelope.event_id)


def test_the_last_winner_in_the_batch_is_the_cause() -> None:
    _, causes = newest_of_batch([A3, B2, A1, B1, A2])
    assert causes[("obj-1", 2027)].causation_id == str(B2.envelope.event_id)
    _, causes = newest_of_batch([B2, A3, B1, A2])
    assert causes[("obj-1", 2027)].causation_id == str(A3.envelope.event_id)


def test_an_empty_batch_changes_nothing() -> None:
    assert newest_of_batch([]) == ([], {})
