"""The base of every business refusal, so domain code can say *why* it refuses without
knowing HTTP: each subclass names its status and a stable code, and the message names the
field at fault. The HTTP layer (regia_shared.http.errors) renders any of them the same way."""


class Refused(Exception):
    status = 400
    code = "refused"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        # A refusal of many things at once (a batch, a plan file) lists each here.
        self.details: list[dict[str, object]] = getattr(self, "details", [])
