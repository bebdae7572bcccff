"""The API keys funding keeps in memory (adapters.known_keys): nothing is answered while
nobody listens for changes, a read that raced a change is not kept, and memory is bounded
in size and age. The same guarantees against a real PostgreSQL, with the trigger and the
listener, are in tests/integration/test_security_keys.py."""

from regia_funding.adapters.known_keys import KeyRow, KnownKeys

ROW = KeyRow("k1", "regione-liguria", "sha", None)


def listening(**options: object) -> KnownKeys:
    known = KnownKeys(**options)  # type: ignore[arg-type]
    known.started_listening()
    return known


def test_nothing_is_kept_or_answered_while_nobody_listens() -> None:
    known = KnownKeys()
    known.keep(ROW, known.generation)
    assert known.get("k1") is None
    known.started_listening()
    known.keep(ROW, known.generation)
    assert known.get("k1") == ROW
    known.stopped_listening()
    assert known.get("k1") is None
    known.started_listening()  # listening again: what was kept before is gone, not revived
    assert known.get("k1") is None


def test_a_read_that_raced_a_change_is_not_kept() -> None:
    known = listening()
    before = known.generation
    known.heard("other-key")  # any change heard while the read ran
    known.keep(ROW, before)
    assert known.get("k1") is None
    # Nor one that began before listening (re)started: a change then went unheard.
    known = KnownKeys()
    before = known.generation
    known.started_listening()
    known.keep(ROW, before)
    assert known.get("k1") is None


def test_a_change_heard_forgets_that_key_and_star_forgets_every_key() -> None:
    known = listening()
    other = KeyRow("k2", "comune-spezia", "sha2", frozenset({"bilancio-comunale"}))
    known.keep(ROW, known.generation)
    known.keep(other, known.generation)
    known.heard("k1")
    assert known.get("k1") is None and known.get("k2") == other
    known.heard("*")
    assert known.get("k2") is None


def test_memory_is_bounded_in_size_least_recently_used_first_and_in_age() -> None:
    now = [0.0]
    known = listening(capacity=2, ttl_s=10.0, clock=lambda: now[0])
    rows = [KeyRow(f"k{i}", "regione-liguria", "sha", None) for i in range(3)]
    known.keep(rows[0], known.generation)
    known.keep(rows[1], known.generation)
    assert known.get("k0") == rows[0]  # used: k1 is now the least recently used
    known.keep(rows[2], known.generation)
    assert known.get("k1") is None
    assert known.get("k0") == rows[0] and known.get("k2") == rows[2]
    now[0] = 10.5
    assert known.get("k0") is None and known.get("k2") is None
