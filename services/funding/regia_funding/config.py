from pydantic import AliasChoices, Field

from regia_shared.contracts.catalogue import FUNDING
from regia_shared.settings import BudgetWindowSettings


class FundingSettings(BudgetWindowSettings):
    # window_first_year (REGIA_FUNDING_WINDOW_FIRST_YEAR) comes from BudgetWindowSettings:
    # the notifier reads the same setting.
    http_port: int = Field(FUNDING.default_port, validation_alias=AliasChoices("REGIA_FUNDING_PORT"))
    window_years: int = Field(
        7,
        ge=1,
        le=30,
        validation_alias=AliasChoices("REGIA_FUNDING_WINDOW_YEARS"),
        description="How many fiscal years the budget window spans",
    )
    rate_per_s: float = Field(
        50.0,
        gt=0,
        validation_alias=AliasChoices("REGIA_FUNDING_RATE_PER_S"),
        description="Funding events one institution key may send per second, per replica "
        "(a batch counts its events); beyond it the API answers 429 with Retry-After",
    )
    rate_burst: int = Field(
        1000,
        ge=1,
        validation_alias=AliasChoices("REGIA_FUNDING_RATE_BURST"),
        description="Events a key may send at once before the per-second rate applies; "
        "at least the largest batch (1,000 events), or a batch that size is refused with 413",
    )
    # The reporting organisation of the IATI open-data file (GET /v1/open/iati-activities.xml).
    # Its ref begins every iati-identifier, so it may hold none of the characters IATI
    # forbids there (space, /, &, |, ?). The default says who publishes without claiming a
    # registered identifier; a public body sets IT-CF-<its codice fiscale>.
    open_data_org_ref: str = Field(
        "IT-REGIA",
        min_length=2,
        max_length=100,
        pattern=r"^[^\s/&|?]+$",
        validation_alias=AliasChoices("REGIA_OPEN_DATA_ORG_REF"),
    )
    open_data_org_name: str = Field(
        "Cabina di regia del piano strategico",
        min_length=1,
        max_length=200,
        validation_alias=AliasChoices("REGIA_OPEN_DATA_ORG_NAME"),
    )
    open_data_org_type: str = Field(
        "11",
        pattern=r"^[0-9]{2}$",
        validation_alias=AliasChoices("REGIA_OPEN_DATA_ORG_TYPE"),
        description="IATI OrganisationType code of the reporting organisation (11: local government)",
    )
