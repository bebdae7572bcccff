"""asyncpg adapter for Idempotency-Key records."""

from collections.abc import Mapping

from pydantic_core import to_json

from regia_shared.statements import Write

from ..domain.batch import Key


# Not a domain refusal (so not in domain/errors.py): a race signal that never reaches a caller;
# group commit runs the transaction again on it, a Kafka batch is rolled back and redelivered.
class KeyTakenConcurrently(Exception):
    """Another transaction recorded one of these keys after this one looked: this
    transaction must roll back and run again, when it will find that key's record."""


def recording(done: Mapping[Key, tuple[str, int, dict]]) -> Write:
    """The statement recording each accepted request's key with its fingerprint and answer
    (at least one), for a caller that joins it with its other writes; `check_recorded` its
    count.

    The keys were looked up (`snapshot.read`) before the requests were decided, without a lock,
    so a concurrent request may have taken one since: the insert then waits for it on the
    primary key, finds it committed and skips it, and that is raised. Inserted in sorted
    order, after the lines are locked, as every writer of keys does: no deadlock."""
    keys = sorted(done)
    return Write(
        "INSERT INTO idempotency_keys (institution_id, space, idempotency_key, request_sha256, status_code,"
        " response)"
        " SELECT d.institution_id, d.space, d.idempotency_key, d.sha, d.status, d.response::jsonb"
        " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[])"
        " WITH ORDINALITY AS d(institution_id, space, idempotency_key, sha, status, response, n) ORDER BY d.n"
        " ON CONFLICT DO NOTHING",
        [
            [k[0] for k in keys],
            [k[1] for k in keys],
            [k[2] for k in keys],
            [done[k][0] for k in keys],
            [done[k][1] for k in keys],
            [to_json(done[k][2]).decode() for k in keys],  # pydantic's Rust encoder: a fifth of json.dumps's time
        ],
    )


def check_recorded(done: Mapping[Key, tuple[str, int, dict]], inserted: int) -> None:
    """Every key `recording` wrote was new, or this transaction must run again."""
    if inserted != len(done):
        raise KeyTakenConcurrently(f"{len(done) - inserted} Idempotency-Key(s) taken by a concurrent request")
