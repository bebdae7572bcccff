from pydantic import AliasChoices, Field

from regia_shared.settings import ServiceSettings


class FundingSettings(ServiceSettings):
    http_port: int = Field(8101, validation_alias=AliasChoices("REGIA_FUNDING_PORT"))
    min_fiscal_year: int = Field(2000, validation_alias=AliasChoices("REGIA_FUNDING_MIN_YEAR"))
    max_fiscal_year: int = Field(2100, validation_alias=AliasChoices("REGIA_FUNDING_MAX_YEAR"))
