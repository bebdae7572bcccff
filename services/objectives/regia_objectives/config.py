from pydantic import AliasChoices, Field

from regia_shared.contracts.catalogue import OBJECTIVES
from regia_shared.settings import ServiceSettings


class ObjectivesSettings(ServiceSettings):
    http_port: int = Field(OBJECTIVES.default_port, validation_alias=AliasChoices("REGIA_OBJECTIVES_PORT"))
    default_at_risk_threshold_pct: int = Field(
        80, ge=1, le=100, validation_alias=AliasChoices("REGIA_AT_RISK_THRESHOLD_PCT")
    )
    milestone_sweep_s: float = Field(
        300.0,
        gt=0,
        validation_alias=AliasChoices("REGIA_MILESTONE_SWEEP_S"),
        description="How often the milestones gone overdue are looked for and announced "
        "(also once on start); a milestone goes overdue the day after its due date",
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
