"""The partners service's registration rules, without I/O."""

import pytest
from pydantic import ValidationError

from regia_partners.domain.commands import RegisterPartner
from regia_partners.domain.errors import Conflict, InvalidPartner
from regia_partners.domain.partner import Contact, Partner, contact_to_add, lead_changes, partner_to_register
from regia_shared.contracts.events.partners import PartnerKind
from regia_shared.contracts.levels import GovernmentLevel

LIGURIA = RegisterPartner(
    partner_id="regione-liguria", name="Regione Liguria", kind=PartnerKind.INSTITUTION, level=GovernmentLevel.REGIONE
)
ROSSI = Contact("rossi", "regione-liguria", "Maria Rossi", "maria@liguria.it", "it")


def test_a_new_partner_is_registered_and_the_same_one_again_is_a_no_op() -> None:
    partner = partner_to_register(LIGURIA, None)
    assert partner == Partner("regione-liguria", "Regione Liguria", PartnerKind.INSTITUTION, GovernmentLevel.REGIONE)
    assert partner_to_register(LIGURIA, partner) is None


def test_other_data_under_a_known_id_is_a_conflict() -> None:
    existing = partner_to_register(LIGURIA, None)
    with pytest.raises(Conflict) as refused:
        partner_to_register(LIGURIA.model_copy(update={"name": "Regione Piemonte"}), existing)
    assert refused.value.field == "partner_id"


def test_the_territory_is_trimmed_part_of_the_partner_and_never_blank() -> None:
    ligure = LIGURIA.model_copy(update={"territory": "Liguria"})
    assert RegisterPartner.model_validate({**LIGURIA.model_dump(), "territory": " Liguria "}) == ligure
    partner = partner_to_register(ligure, None)
    assert partner is not None and partner.territory == "Liguria"
    assert partner_to_register(ligure, partner) is None
    with pytest.raises(Conflict):
        partner_to_register(LIGURIA, partner)  # the same partner without its territory is another one
    with pytest.raises(ValidationError) as refused:
        RegisterPartner.model_validate({**LIGURIA.model_dump(), "territory": "  "})
    assert refused.value.errors()[0]["loc"] == ("territory",)


def test_an_institution_needs_a_level_but_an_association_does_not() -> None:
    with pytest.raises(InvalidPartner) as refused:
        partner_to_register(LIGURIA.model_copy(update={"level": None}), None)
    assert refused.value.field == "level"
    association = RegisterPartner(partner_id="rete", name="Rete per il lavoro", kind=PartnerKind.ASSOCIATION)
    assert partner_to_register(association, None) is not None


def test_contacts_are_identified_by_id_or_else_by_address() -> None:
    assert contact_to_add(ROSSI, None, None, id_given=True) == ROSSI
    assert contact_to_add(ROSSI, ROSSI, ROSSI, id_given=True) is None
    shouting = Contact("generated", "regione-liguria", "Maria Rossi", "MARIA@liguria.it", "it")
    assert contact_to_add(shouting, None, ROSSI, id_given=False) is None
    with pytest.raises(Conflict, match="already a contact") as refused:
        contact_to_add(Contact("other", *list(ROSSI.__dict__.values())[1:]), None, ROSSI, id_given=True)
    assert refused.value.field == "email"
    with pytest.raises(Conflict) as refused:
        contact_to_add(
            Contact("rossi", "regione-liguria", "Maria Rossi", "maria@liguria.it", "en"), ROSSI, None, id_given=True
        )
    assert refused.value.field == "contact_id"


def test_only_a_different_lead_is_a_change() -> None:
    assert lead_changes(None, "comune-spezia")
    assert lead_changes("regione-liguria", "comune-spezia")
    assert not lead_changes("comune-spezia", "comune-spezia")
