"""Why the partners service refuses a command. Each maps to one HTTP status."""


class PartnersError(Exception):
    status = 400
    code = "partners_error"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class PartnerNotFound(PartnersError):
    status, code = 404, "partner_not_found"


class Conflict(PartnersError):
    """The id is taken by something different: re-sending the same data is fine, changing
    it through a create is not (it would silently rewrite what others projected)."""

    status, code = 409, "conflict"


class InvalidPartner(PartnersError):
    status, code = 422, "invalid_partner"
