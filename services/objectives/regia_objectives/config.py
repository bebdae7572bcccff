from pydantic import AliasChoices, Field

from regia_shared.contracts.catalogue import OBJECTIVES
from regia_shared.settings import ServiceSettings


class ObjectivesSettings(ServiceSettings):
    http_port: int = Field(OBJECTIVES.default_port, validation_alias=AliasChoices("REGIA_OBJECTIVES_PORT"))
    default_at_risk_threshold_pct: int = Field(
        80, ge=1, le=100, validation_alias=AliasChoices("REGIA_AT_RISK_THRESHOLD_PCT")
    )
    summary_fold_s: float = Field(
        300.0,
        gt=0,
        validation_alias=AliasChoices("REGIA_SUMMARY_FOLD_S"),
        description="How often the summary's figures, kept in a slot per database connection so that "
        "concurrent writers do not queue, are folded back into one row per key",
    )
    milestone_sweep_s: float = Field(
        300.0,
        gt=0,
        validation_alias=AliasChoices("REGIA_MILESTONE_SWEEP_S"),
        description="How often the milestones gone overdue are looked for and announced "
        "(also once on start); a milestone goes overdue the day after its due date",
    )
