from pydantic import AliasChoices, Field

from regia_shared.settings import ServiceSettings


class PartnersSettings(ServiceSettings):
    http_port: int = Field(8103, validation_alias=AliasChoices("REGIA_PARTNERS_PORT"))
