"""The levels of government (and the funders beside them) that money comes from."""

from enum import StrEnum


class GovernmentLevel(StrEnum):
    COMUNE = "COMUNE"
    PROVINCIA = "PROVINCIA"
    REGIONE = "REGIONE"
    STATO = "STATO"
    EU = "EU"
    PRIVATE = "PRIVATE"
    OTHER_PUBLIC = "OTHER_PUBLIC"  # other public bodies: a port authority, a chamber of commerce, a university
    FOREIGN_STATE = "FOREIGN_STATE"  # a foreign state's money (OpenCoesione's FINANZ_STATO_ESTERO)
