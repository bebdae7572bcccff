"""Why the funding service refuses a command. Each maps to one HTTP status."""


class FundingError(Exception):
    status = 400
    code = "funding_error"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class LineNotFound(FundingError):
    status, code = 404, "line_not_found"


class NotYourLine(FundingError):
    status, code = 403, "forbidden"


class LineAlreadyExists(FundingError):
    status, code = 409, "line_exists"


class StaleVersion(FundingError):
    status, code = 409, "stale_version"


class InvalidChange(FundingError):
    status, code = 422, "invalid_change"
