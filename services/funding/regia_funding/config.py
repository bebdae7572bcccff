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
