"""Why the funding service refuses a command. Each maps to one HTTP status."""

from regia_shared.refusal import Refused


class FundingError(Refused):
    status = 400
    code = "funding_error"


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
