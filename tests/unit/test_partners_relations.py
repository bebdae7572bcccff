"""The partners service's rules for roles, networks and preferences, without I/O."""

from datetime import date

import pytest
from pydantic import ValidationError

from regia_partners.domain.commands import ChooseOwnPreferences, FormNetwork, SetPreferences
from regia_partners.domain.errors import Conflict, InvalidPartner, NotFound
from regia_partners.domain.relations import (
    Membership,
    Network,
    chosen,
    default_preferences,
    members_on,
    membership_to_close,
    membership_to_open,
    network_to_form,
    preferences_change,
    preferences_from,
    role_assignable,
    unsubscribed,
)
from regia_shared.contracts.alert_kinds import ALERT_KINDS
from regia_shared.contracts.events.partners import ObjectiveRole

RETE = FormNetwork(
    network_id="rete-lavoro",
    name="Rete per il lavoro",
    founded_on=date(2017, 3, 1),
    coordinator_partner_id="comune-spezia",
)
NETWORK = Network("rete-lavoro", "Rete per il lavoro", date(2017, 3, 1), "comune-spezia", None)


def test_the_lead_is_not_in_the_roles_set() -> None:
    with pytest.raises(InvalidPartner) as refused:
        role_assignable(ObjectiveRole.LEAD)
    assert refused.value.field == "role"
    for role in set(ObjectiveRole) - {ObjectiveRole.LEAD}:
        role_assignable(role)


def test_a_network_is_formed_once_and_conflicts_with_other_data() -> None:
    assert network_to_form(RETE, None) == NETWORK
    assert network_to_form(RETE, NETWORK) is None
    with pytest.raises(Conflict):
        network_to_form(RETE.model_copy(update={"name": "Altra"}), NETWORK)


def test_joining_opens_a_membership_once() -> None:
    joined = membership_to_open(NETWORK, [], "enaip", date(2018, 1, 1))
    assert joined == Membership("enaip", date(2018, 1, 1))
    assert membership_to_open(NETWORK, [joined], "enaip", date(2018, 1, 1)) is None
    with pytest.raises(Conflict):
        membership_to_open(NETWORK, [joined], "enaip", date(2019, 1, 1))
    with pytest.raises(InvalidPartner) as refused:
        membership_to_open(NETWORK, [], "enaip", date(2016, 12, 31))
    assert refused.value.field == "joined_on"


def test_rejoining_starts_no_earlier_than_the_last_leaving() -> None:
    past = [Membership("cisl", date(2017, 3, 1), date(2020, 1, 1))]
    with pytest.raises(InvalidPartner):
        membership_to_open(NETWORK, past, "cisl", date(2019, 12, 31))
    assert membership_to_open(NETWORK, past, "cisl", date(2020, 1, 1)) == Membership("cisl", date(2020, 1, 1))


def test_leaving_closes_the_open_membership_and_a_retry_is_a_no_op() -> None:
    open_ = Membership("cisl", date(2017, 3, 1))
    closed = membership_to_close([open_], "cisl", date(2020, 1, 1))
    assert closed == Membership("cisl", date(2017, 3, 1), date(2020, 1, 1))
    assert membership_to_close([closed], "cisl", date(2020, 1, 1)) is None
    with pytest.raises(NotFound):
        membership_to_close([closed], "cisl", date(2021, 1, 1))
    with pytest.raises(NotFound):
        membership_to_close([], "cisl", date(2021, 1, 1))
    with pytest.raises(InvalidPartner) as refused:
        membership_to_close([open_], "cisl", date(2017, 3, 1))
    assert refused.value.field == "left_on"


def test_members_on_a_day_include_joiners_that_day_and_exclude_leavers() -> None:
    history = [
        Membership("cisl", date(2017, 3, 1), date(2020, 1, 1)),
        Membership("cisl", date(2022, 9, 1)),
        Membership("enaip", date(2018, 6, 15)),
    ]
    assert members_on(history, date(2017, 2, 28)) == []
    assert [m.partner_id for m in members_on(history, date(2017, 3, 1))] == ["cisl"]
    assert [m.partner_id for m in members_on(history, date(2020, 1, 1))] == ["enaip"]
    assert [m.partner_id for m in members_on(history, date(2023, 1, 1))] == ["cisl", "enaip"]


def test_preferences_in_another_order_are_no_change() -> None:
    one = preferences_from(
        SetPreferences(channels=["webhook", "email"], event_kinds=["review_closed", "status_changed"])
    )
    other = preferences_from(
        SetPreferences(channels=["email", "webhook", "email"], event_kinds=["status_changed", "review_closed"])
    )
    assert one == other and not preferences_change(one, other)
    assert preferences_change(None, one)
    assert preferences_change(
        one,
        preferences_from(
            SetPreferences(channels=["email"], cadence="daily_digest", event_kinds=["review_closed", "status_changed"])
        ),
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channels": []}, "channels"),
        ({"channels": ["sms"]}, "channels"),
        ({"channels": ["email"], "language": "fr"}, "language"),
        ({"channels": ["email"], "cadence": "weekly"}, "cadence"),
        ({"channels": ["email"], "event_kinds": ["anything"]}, "event_kinds"),
        ({"channels": ["email"], "kinds": {"anything": "off"}}, "kinds"),
        ({"channels": ["email"], "kinds": {"status_changed": "monthly"}}, "kinds"),
        ({"channels": ["email"], "cadence": "off"}, "cadence"),
    ],
)
def test_bad_preferences_are_refused_naming_the_field(body: dict, field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        SetPreferences(**body)
    assert refused.value.errors()[0]["loc"][0] == field


def test_an_unknown_kind_is_refused_saying_which_kinds_there_are() -> None:
    with pytest.raises(ValidationError) as refused:
        SetPreferences(channels=["email"], kinds={"status_change": "off"})
    error = refused.value.errors()[0]
    assert error["loc"][:2] == ("kinds", "status_change")
    assert "unknown kind of alert 'status_change': one of status_changed, funding_dropped" in error["msg"]


def test_each_kind_has_its_e_mail_cadence_and_what_says_nothing_more_is_not_kept() -> None:
    prefs = preferences_from(
        SetPreferences(
            channels=["email", "webhook"],
            cadence="weekly_digest",
            event_kinds=["status_changed", "funding_dropped", "review_closed"],
            kinds={
                "status_changed": "immediate",
                "funding_dropped": "off",
                "review_closed": "weekly_digest",  # the cadence anyway: nothing more said
                "line_revoked": "daily_digest",  # not heard of at all: nothing more said
            },
        )
    )
    assert prefs.kinds == (("funding_dropped", "off"), ("status_changed", "immediate"))
    assert prefs.email_cadences() == {
        "status_changed": "immediate",
        "funding_dropped": "off",
        "line_revoked": "off",
        "review_closed": "weekly_digest",
        "single_level_dependency": "off",
        "milestone_overdue": "off",
        "indicator_behind": "off",
    }
    # The same choice said otherwise is no change.
    same = preferences_from(
        SetPreferences(
            channels=["webhook", "email"],
            cadence="weekly_digest",
            event_kinds=["review_closed", "funding_dropped", "status_changed"],
            kinds={"funding_dropped": "off", "status_changed": "immediate"},
        )
    )
    assert not preferences_change(prefs, same)
    # Without e-mail as a channel, no kind comes by e-mail.
    webhooks_only = preferences_from(SetPreferences(channels=["webhook"]))
    assert set(webhooks_only.email_cadences().values()) == {"off"}


def test_one_click_turns_its_kinds_off_once_and_leaves_the_rest() -> None:
    start = default_preferences("en")
    assert start.email_cadences() == dict.fromkeys(ALERT_KINDS, "immediate")
    off = unsubscribed(start, ("status_changed",))
    assert off.email_cadences()["status_changed"] == "off"
    assert [c for k, c in off.email_cadences().items() if k != "status_changed"] == ["immediate"] * (
        len(ALERT_KINDS) - 1
    )
    assert off.event_kinds == start.event_kinds and off.channels == start.channels  # webhooks still hear of it
    assert not preferences_change(off, unsubscribed(off, ("status_changed",)))  # again: no change
    # A link older than a kind's removal: what it names and this version knows is turned off.
    assert unsubscribed(start, ("status_changed", "gone_kind")) == off
    everything = unsubscribed(off, None)
    assert set(everything.email_cadences().values()) == {"off"}


def test_a_contact_chooses_on_their_page_and_turning_on_turns_on_that_kind_alone() -> None:
    start = unsubscribed(default_preferences("it"), None)
    mine = chosen(start, ChooseOwnPreferences(kinds={"review_closed": "weekly_digest"}, language="en"))
    assert mine.language == "en"
    assert mine.email_cadences() == {
        "status_changed": "off",
        "funding_dropped": "off",
        "line_revoked": "off",
        "review_closed": "weekly_digest",
        "single_level_dependency": "off",
        "milestone_overdue": "off",
        "indicator_behind": "off",
    }
    # A kind the administrator left out, and a contact with no e-mail channel: choosing a
    # cadence for one kind brings e-mail back for that kind only.
    narrow = preferences_from(SetPreferences(channels=["webhook"], event_kinds=["status_changed"]))
    back = chosen(narrow, ChooseOwnPreferences(kinds={"line_revoked": "daily_digest"}))
    assert back.email_cadences() == {
        "status_changed": "off",
        "funding_dropped": "off",
        "line_revoked": "daily_digest",
        "review_closed": "off",
        "single_level_dependency": "off",
        "milestone_overdue": "off",
        "indicator_behind": "off",
    }
    assert back.channels == ("email", "webhook") and back.event_kinds == ("line_revoked", "status_changed")
    assert not preferences_change(back, chosen(back, ChooseOwnPreferences(kinds={"line_revoked": "daily_digest"})))
