from pydantic import AliasChoices, Field

from regia_shared.contracts.catalogue import PARTNERS
from regia_shared.settings import ServiceSettings


class PartnersSettings(ServiceSettings):
    http_port: int = Field(PARTNERS.default_port, validation_alias=AliasChoices("REGIA_PARTNERS_PORT"))
