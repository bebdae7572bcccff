"""Deciding a batch of funding submissions at once (domain.batch.plan), with no I/O: it must
come to exactly what deciding each submission alone, one after another, comes to."""

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from regia_funding.domain import rules
from regia_funding.domain.batch import Accepted, Earlier, Refusal, Replay, Snapshot, Submission, plan
from regia_funding.domain.commands import FundingCommand
from regia_funding.domain.errors import BatchRefused, IdempotencyKeyReused, KeyNotValid, LineNotFound, NoSuchMoney
from regia_shared.contracts.levels import GovernmentLevel

COMMAND = TypeAdapter(FundingCommand)
WINDOW = rules.Window(2025, 2031)
POR = rules.Instrument("por-fesr", "liguria", GovernmentLevel.REGIONE)


def snapshot(**lines) -> Snapshot:  # type: ignore[no-untyped-def]
    return Snapshot(WINDOW, dict(lines), {"por-fesr": POR}, frozenset({"o1", "o2"}))


def cmd(**fields):  # type: ignore[no-untyped-def]
    return COMMAND.validate_python(fields)


def commit(line: str, amount: int = 1000, objective: str = "o1"):  # type: ignore[no-untyped-def]
    return cmd(
        type="commitment",
        line_id=line,
        instrument_id="por-fesr",
        objective_id=objective,
        fiscal_year=2027,
        committed_cents=amount,
    )


def sub(key: str, *commands, batch: bool = False, fingerprint: str | None = None) -> Submission:  # type: ignore[no-untyped-def]
    return Submission(("liguria", key), fingerprint or repr(commands), "liguria", None, list(commands), batch)


def test_a_submission_sees_what_the_accepted_ones_before_it_changed() -> None:
    decisions = plan(
        [sub("a", commit("L1")), sub("b", cmd(type="revision", line_id="L1", committed_cents=700))], snapshot(), {}
    )
    assert all(isinstance(d, Accepted) for d in decisions)
    revised = decisions[1].entries[0][0]  # type: ignore[union-attr]
    assert revised.line.version == 2 and revised.line.committed_cents == 700 and revised.committed_delta_cents == -300


def test_a_refused_batch_leaves_nothing_behind_and_lists_every_refusal() -> None:
    decisions = plan(
        [
            sub(
                "a",
                commit("L1"),
                cmd(type="revision", line_id="L9", committed_cents=1),
                cmd(type="disbursement", line_id="L1", amount_cents=5000),
                batch=True,
            ),
            sub("b", cmd(type="revision", line_id="L1", committed_cents=700)),
        ],
        snapshot(),
        {},
    )
    refused = decisions[0]
    assert isinstance(refused, Refusal) and isinstance(refused.error, BatchRefused)
    # the disbursement was checked against the line its own batch opened just before
    assert [(d["index"], d["error"]) for d in refused.error.details] == [(1, LineNotFound.code), (2, NoSuchMoney.code)]
    assert isinstance(decisions[1], Refusal) and isinstance(decisions[1].error, LineNotFound)


def test_a_key_seen_twice_is_a_replay_with_the_same_commands_and_refused_with_others() -> None:
    decisions = plan([sub("a", commit("L1")), sub("a", commit("L1")), sub("a", commit("L2"))], snapshot(), {})
    assert isinstance(decisions[0], Accepted)
    assert decisions[1] == Replay(of_index=0)
    assert isinstance(decisions[2], Refusal) and isinstance(decisions[2].error, IdempotencyKeyReused)


def test_a_key_recorded_before_the_batch_answers_what_it_answered_then() -> None:
    earlier = Earlier(repr((commit("L1"),)), 202, {"line_id": "L1"})
    decisions = plan([sub("a", commit("L1")), sub("a", commit("L2"))], snapshot(), {("liguria", "a"): earlier})
    assert decisions[0] == Replay(earlier=earlier)
    assert isinstance(decisions[1], Refusal) and isinstance(decisions[1].error, IdempotencyKeyReused)


def test_a_key_whose_first_request_was_refused_is_decided_again() -> None:
    revise = cmd(type="revision", line_id="L1", committed_cents=5)
    decisions = plan([sub("a", revise), sub("b", commit("L1")), sub("a", revise)], snapshot(), {})
    assert isinstance(decisions[0], Refusal) and isinstance(decisions[2], Accepted)


# --- the property: a batch decides as its submissions would, alone and in turn ---------------

LINES = ("L1", "L2", "L3")
amounts = st.integers(min_value=1, max_value=3000)
commands = st.one_of(
    st.builds(
        lambda line, amount, objective: commit(line, amount, objective),
        st.sampled_from(LINES),
        amounts,
        st.sampled_from(["o1", "o2", "o9"]),
    ),
    st.builds(
        lambda line, amount: cmd(type="revision", line_id=line, committed_cents=amount - 1),
        st.sampled_from(LINES),
        amounts,
    ),
    st.builds(
        lambda line, amount: cmd(type="disbursement", line_id=line, amount_cents=amount),
        st.sampled_from(LINES),
        amounts,
    ),
    st.builds(lambda line: cmd(type="revocation", line_id=line), st.sampled_from(LINES)),
    st.builds(
        lambda pair, amount, objective: cmd(
            type="reallocation", line_id=pair[0], to_line_id=pair[1], amount_cents=amount, to_objective_id=objective
        ),
        st.permutations(LINES).map(lambda p: p[:2]),
        amounts,
        st.sampled_from([None, "o1", "o2"]),
    ),
)
submissions = st.lists(
    st.builds(
        lambda key, cmds, batch: sub(key, *cmds, batch=batch),
        st.sampled_from("abcde"),
        st.lists(commands, min_size=1, max_size=3),
        st.booleans(),
    ),
    min_size=1,
    max_size=12,
)


def one_by_one(subs: list[Submission], read: Snapshot) -> list[tuple]:
    """The reference: each submission decided alone, its accepted changes written into the
    state the next one reads, its key recorded as the next one will find it."""
    lines = dict(read.lines)
    recorded: dict = {}
    outcomes = []
    for s in subs:
        (decision,) = plan([s], replace(read, lines=dict(lines)), recorded)
        if isinstance(decision, Accepted):
            for entries in decision.entries:
                lines.update((e.line.line_id, e.line) for e in entries)
            recorded[s.key] = Earlier(s.fingerprint, 202, {})
        outcomes.append(_shape(decision))
    return outcomes


def _shape(decision) -> tuple:  # type: ignore[no-untyped-def]
    if isinstance(decision, Accepted):
        return ("accepted", decision.entries)
    if isinstance(decision, Replay):
        return ("replay",)
    return ("refused", type(decision.error).__name__, decision.error.message)


@settings(max_examples=300, deadline=None)
@given(submissions)
def test_a_batch_decides_exactly_as_its_submissions_one_by_one(subs: list[Submission]) -> None:
    read = snapshot()
    assert [_shape(d) for d in plan(subs, read, {})] == one_by_one(subs, read)


def test_a_submission_whose_key_was_revoked_is_refused_even_its_replay_and_the_others_go_on() -> None:
    revoked = replace(sub("a", commit("L1")), key_id="k-revoked")
    earlier = {("liguria", "a"): Earlier(repr((commit("L1"),)), 202, {"line_id": "L1"})}
    decisions = plan(
        [revoked, replace(sub("b", commit("L2")), key_id="k-live"), replace(sub("c", commit("L3")), key_id=None)],
        snapshot(),
        earlier,
        frozenset({"k-revoked"}),
    )
    assert isinstance(decisions[0], Refusal) and isinstance(decisions[0].error, KeyNotValid)
    assert decisions[0].error.status == 401 and decisions[0].error.code == "unauthorized"
    assert isinstance(decisions[1], Accepted) and isinstance(decisions[2], Accepted)
    # The same submission with its key live replays what was answered before.
    assert isinstance(plan([replace(revoked, key_id="k-live")], snapshot(), earlier, frozenset({"k-x"}))[0], Replay)
