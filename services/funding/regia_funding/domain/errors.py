"""Why the funding service refuses a command. Each maps to one HTTP status."""

from regia_shared.contracts.refusal import Refused


class FundingError(Refused):
    status = 400
    code = "funding_error"


class LineNotFound(FundingError):
    status, code = 404, "line_not_found"


class NotYours(FundingError):
    status, code = 403, "forbidden"


NotYourLine = NotYours


class LineAlreadyExists(FundingError):
    status, code = 409, "line_exists"


class StaleVersion(FundingError):
    status, code = 409, "stale_version"


class InvalidChange(FundingError):
    status, code = 422, "invalid_change"


class UnknownReference(FundingError):
    """An instrument or objective the funding service does not know."""

    status, code = 422, "unknown_reference"


class NoSuchMoney(FundingError):
    """Disbursing, reallocating or rolling over more than the line holds."""

    status, code = 422, "insufficient_funds"


class KeyNotValid(FundingError):
    """The request's API key was revoked before the transaction that would record it read
    it (`batch.plan`'s `revoked_keys`): the same 401 as any key refused at the door."""

    status, code = 401, "unauthorized"


class IdempotencyKeyReused(FundingError):
    status, code = 422, "idempotency_key_reused"


class BatchRefused(FundingError):
    """Some commands of an all-or-nothing batch were refused: it lists every one of them."""

    status, code = 422, "batch_refused"

    def __init__(self, refusals: list[tuple[int, Refused]]) -> None:
        self.details = [{"index": i, "error": r.code, "field": r.field, "message": r.message} for i, r in refusals]
        super().__init__(
            f"{len(refusals)} of the batch's events were refused; nothing was recorded: "
            + "; ".join(f"[{d['index']}] {d['message']}" for d in self.details)
        )


class InvalidQuery(FundingError):
    """A query parameter that parses but means nothing (a cursor of another listing, a
    date that is not one): the same code as FastAPI's own refusals of a query."""

    status, code = 422, "validation_failed"
