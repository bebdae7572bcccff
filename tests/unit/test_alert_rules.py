"""What an alert rule matches, and which rules cannot be written. Pure."""

import pytest
from pydantic import ValidationError

from regia_notifier.domain.occurrences import FundingDrop, LineRevoked, ReviewClosed, StatusChange, Trigger
from regia_notifier.domain.rules import Audience, Rule, RuleSpec, audiences, matching
from regia_shared.contracts.events.objectives import CoverageStatus as S


def change(previous: S | None, now: S) -> StatusChange:
    return StatusChange("o", "O", 2027, previous, now, 0, 100, 0, 80)


def drop(before: int, after: int) -> FundingDrop:
    return FundingDrop("o", "O", 2027, before, after, 1000, 0, S.AT_RISK)


WORSENED = Rule(rule_id="w", trigger=Trigger.STATUS_CHANGED, audience=[Audience.LEAD], direction="worsened")
IMPROVED = Rule(rule_id="i", trigger=Trigger.STATUS_CHANGED, audience=[Audience.LEAD], direction="improved")
ANY = Rule(rule_id="a", trigger=Trigger.STATUS_CHANGED, audience=[Audience.PARTNER])


@pytest.mark.parametrize(
    ("previous", "now", "worse"),
    [
        (S.FUNDED, S.PARTIALLY_FUNDED, True),
        (S.PARTIALLY_FUNDED, S.AT_RISK, True),
        (S.AT_RISK, S.UNFUNDED, True),
        (S.UNFUNDED, S.AT_RISK, False),
        (S.AT_RISK, S.FUNDED, False),
    ],
)
def test_status_direction(previous: S | None, now: S, worse: bool) -> None:
    c = change(previous, now)
    assert c.worsened is worse
    assert [r.rule_id for r in matching([WORSENED, IMPROVED, ANY], c)] == (["w", "a"] if worse else ["i", "a"])


@pytest.mark.parametrize("now", list(S))
def test_a_first_status_matches_no_rule_whatever_it_is(now: S) -> None:
    # A year just created or imported (no previous status) is not a change anyone acts on:
    # until this rule, a first UNFUNDED or AT_RISK counted as a worsening, and loading a
    # plan mailed one "none → UNFUNDED" per year.
    c = change(None, now)
    assert c.first and not c.worsened
    assert matching([WORSENED, IMPROVED, ANY], c) == []


def test_a_drop_matches_only_when_more_than_the_share() -> None:
    rule = Rule(rule_id="d", trigger=Trigger.FUNDING_DROPPED, audience=[Audience.LEAD], min_drop_pct=10)
    default = Rule(rule_id="d10", trigger=Trigger.FUNDING_DROPPED, audience=[Audience.LEAD])
    assert not rule.matches(drop(1000, 900))  # exactly 10 %
    assert rule.matches(drop(1000, 899)) and default.matches(drop(1000, 899))
    assert rule.matches(drop(3, 2)) and rule.matches(drop(1000, 0))
    assert not rule.matches(drop(100_000_001, 90_000_001))  # 9.99999 %
    assert drop(1000, 899).drop_bp == 1010


def test_disabled_rules_and_other_triggers_never_match() -> None:
    off = Rule(rule_id="off", trigger=Trigger.STATUS_CHANGED, audience=[Audience.LEAD], enabled=False)
    revoked = LineRevoked("l", "o", None, "inst", None, 2027, 100, None)
    review = ReviewClosed("plan", None, 2027, 0, 0, 0, 0, {}, ("plan",))
    funders = Rule(rule_id="f", trigger=Trigger.LINE_REVOKED, audience=[Audience.LINE_INSTITUTION, Audience.FUNDER])
    assert matching([off, funders], change(S.FUNDED, S.UNFUNDED)) == []
    assert matching([off, funders, WORSENED], revoked) == [funders]
    assert matching([funders], review) == []


def test_audiences_name_the_rules_that_reached_them() -> None:
    both = Rule(rule_id="b", trigger=Trigger.STATUS_CHANGED, audience=[Audience.LEAD, Audience.FUNDER])
    assert audiences([WORSENED, both]) == {Audience.LEAD: ["w", "b"], Audience.FUNDER: ["b"]}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"trigger": "line_revoked", "audience": ["FUNDER"], "direction": "worsened"}, "direction applies"),
        ({"trigger": "status_changed", "audience": ["LEAD"], "min_drop_pct": 5}, "min_drop_pct applies"),
        ({"trigger": "review_closed", "audience": ["LINE_INSTITUTION"]}, "LINE_INSTITUTION"),
        ({"trigger": "status_changed", "audience": []}, "at least 1"),
        ({"trigger": "status_changed", "audience": ["MAYOR"]}, "audience"),
        ({"trigger": "funding_dropped", "audience": ["LEAD"], "min_drop_pct": 0}, "greater than or equal to 1"),
        ({"trigger": "something", "audience": ["LEAD"]}, "trigger"),
        ({"trigger": "status_changed", "audience": ["LEAD"], "when": "always"}, "Extra inputs"),
    ],
)
def test_a_rule_that_cannot_mean_anything_is_refused(spec: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RuleSpec.model_validate(spec)


def test_rule_ids_are_plain_identifiers() -> None:
    with pytest.raises(ValidationError):
        Rule(rule_id="a,b", trigger=Trigger.STATUS_CHANGED, audience=[Audience.LEAD])
    assert Rule(rule_id="x.y-z_1", trigger=Trigger.STATUS_CHANGED, audience=[Audience.LEAD]).condition == {}
    assert WORSENED.condition == {"direction": "worsened"}
