"""The rules of editing partners and contacts and of erasing a contact (issue 20), and what
the notifier leaves of an erased person's address in free text. Pure."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from regia_notifier.domain.erasure import ERASED_ADDRESS, mentions, without_addresses
from regia_partners.domain.commands import EditContact, EditPartner
from regia_partners.domain.errors import Conflict, ContactErased
from regia_partners.domain.partner import Contact, Partner, contact_edited, contact_to_erase, partner_edited
from regia_shared.contracts.events.partners import PartnerKind
from regia_shared.contracts.levels import GovernmentLevel

COMUNE = Partner("comune-spezia", "Comune della Spezia", PartnerKind.INSTITUTION, GovernmentLevel.COMUNE, "Liguria")
ROSSI = Contact("rossi", "comune-spezia", "Maria Rossi", "maria@comune.sp.it", "it")


def test_a_partner_edit_changes_only_the_fields_given_and_the_same_values_change_nothing() -> None:
    edited = partner_edited(COMUNE, EditPartner(name="Comune di La Spezia"))
    assert edited == Partner(
        "comune-spezia", "Comune di La Spezia", PartnerKind.INSTITUTION, GovernmentLevel.COMUNE, "Liguria"
    )
    assert partner_edited(COMUNE, EditPartner(territory=None)).territory is None  # type: ignore[union-attr]
    assert partner_edited(COMUNE, EditPartner(name="Comune della Spezia", territory="Liguria")) is None


@pytest.mark.parametrize(
    "body", [{}, {"kind": "ENTERPRISE"}, {"level": "REGIONE"}, {"partner_id": "x"}, {"name": None}, {"name": ""}]
)
def test_a_partner_edit_never_touches_identity_nor_clears_the_name(body: dict) -> None:
    with pytest.raises(ValidationError):
        EditPartner.model_validate(body)


def test_a_contact_edit_keeps_the_unique_address_and_is_idempotent() -> None:
    edited = contact_edited(ROSSI, EditContact(email="Maria.Rossi@Comune.SP.it", language="en"), None)
    assert edited is not None and (edited.email, edited.language, edited.name) == (
        "Maria.Rossi@comune.sp.it",
        "en",
        "Maria Rossi",
    )
    assert contact_edited(ROSSI, EditContact(name="Maria Rossi"), None) is None
    other = Contact("bianchi", "comune-spezia", "Anna Bianchi", "anna@comune.sp.it", "it")
    with pytest.raises(Conflict):
        contact_edited(ROSSI, EditContact(email="anna@comune.sp.it"), other)
    # Its own address, in another case, is no conflict.
    assert contact_edited(ROSSI, EditContact(email="MARIA@comune.sp.it"), ROSSI) is not None


@pytest.mark.parametrize(
    "body", [{}, {"email": None}, {"name": None}, {"email": "not an address"}, {"partner_id": "x"}]
)
def test_a_contact_edit_is_refused_when_it_clears_or_breaks_a_field(body: dict) -> None:
    with pytest.raises(ValidationError):
        EditContact.model_validate(body)


def test_an_erased_contact_is_erased_once_and_never_edited_back() -> None:
    assert contact_to_erase(ROSSI)
    erased = Contact("rossi", "comune-spezia", None, None, "it", datetime(2026, 5, 1, tzinfo=UTC))
    assert not contact_to_erase(erased)
    with pytest.raises(ContactErased):
        contact_edited(erased, EditContact(name="Maria Rossi"), None)
    assert not erased.same_person(erased)


def test_every_address_is_replaced_in_free_text_in_any_case() -> None:
    text = "550 5.1.1 <MARIA@comune.sp.it>: unknown; was maria@comune.sp.it, also old@x.it"
    scrubbed = without_addresses(text, ["maria@comune.sp.it", "old@x.it"])
    assert scrubbed == f"550 5.1.1 <{ERASED_ADDRESS}>: unknown; was {ERASED_ADDRESS}, also {ERASED_ADDRESS}"
    assert mentions(text, ["Maria@Comune.sp.it"]) and not mentions(scrubbed, ["maria@comune.sp.it", "old@x.it"])
    # A regular expression's characters in an address are literal.
    assert without_addresses("a.b+c@x.it ab+c@x.it", ["a.b+c@x.it"]) == f"{ERASED_ADDRESS} ab+c@x.it"
