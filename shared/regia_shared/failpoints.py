"""Test-only fault injection: die at a named point of the code, as a crash would.

`hit("outbox.after_publish")` does nothing unless the environment variable
REGIA_FAILPOINTS lists that name (comma-separated); then the process ends on the spot
with os._exit(137), the exit status of a SIGKILL: no finally block, no shutdown hook,
no rollback, no offset commit. Only the fault tests set REGIA_FAILPOINTS; in production
the variable is absent and every call is a dictionary-free string check.
"""

import os
import sys


def armed() -> frozenset[str]:
    return frozenset(n.strip() for n in os.environ.get("REGIA_FAILPOINTS", "").split(",") if n.strip())


def hit(name: str) -> None:
    """Crash here if the tests armed `name`; otherwise return at once."""
    if name in armed():
        print(f"failpoint {name} hit: exiting with 137", file=sys.stderr, flush=True)
        os._exit(137)
