from pydantic import AliasChoices, Field

from regia_shared.contracts.catalogue import PARTNERS
from regia_shared.settings import PreferenceLinkSettings


class PartnersSettings(PreferenceLinkSettings):
    # preference_link_key (REGIA_PREFERENCE_LINK_KEY), shared with the notifier, which
    # signs the links of e-mails that this service verifies before a contact's own change.
    http_port: int = Field(PARTNERS.default_port, validation_alias=AliasChoices("REGIA_PARTNERS_PORT"))
