from datetime import date

from pydantic import AliasChoices, Field

from regia_shared import fiscal
from regia_shared.settings import ServiceSettings


class ObjectivesSettings(ServiceSettings):
    http_port: int = Field(8102, validation_alias=AliasChoices("REGIA_OBJECTIVES_PORT"))
    default_at_risk_threshold_pct: int = Field(
        80, ge=1, le=100, validation_alias=AliasChoices("REGIA_AT_RISK_THRESHOLD_PCT"))
    today: date | None = Field(
        None, validation_alias=AliasChoices("REGIA_TODAY"),
        description="Pins the date the service takes as today when an annual review closes a "
        "year (tests and drills); unset, today's date in Europe/Rome")

    def fiscal_today(self) -> date:
        """Today, for closing years: the pinned date, or the date in Rome."""
        return fiscal.today(self.today)
