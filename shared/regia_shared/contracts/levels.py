"""The levels of government (and the funders beside them) that money comes from."""

from enum import StrEnum


class GovernmentLevel(StrEnum):
    COMUNE = "COMUNE"
    PROVINCIA = "PROVINCIA"
    REGIONE = "REGIONE"
    STATO = "STATO"
    EU = "EU"
    PRIVATE = "PRIVATE"
