"""The partners service's rules for roles, networks and preferences, without I/O."""

from datetime import date

import pytest
from pydantic import ValidationError

from regia_partners.domain.commands import FormNetwork, SetPreferences
from regia_partners.domain.errors import Conflict, InvalidPartner, NotFound
from regia_partners.domain.relations import (
    Membership,
    Network,
    members_on,
    membership_to_close,
    membership_to_open,
    network_to_form,
    preferences_change,
    preferences_from,
    role_assignable,
)
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
    ],
)
def test_bad_preferences_are_refused_naming_the_field(body: dict, field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        SetPreferences(**body)
    assert refused.value.errors()[0]["loc"][0] == field
