"""Array parameters without a Python call per element: asyncpg's shape check, narrowed.

Guarantees, once `narrow_array_checks` has run in a process:
- every array parameter Regia sends (a list or a tuple of values; a list of lists for more
  than one dimension) is encoded exactly as before: the same bytes reach PostgreSQL;
- a parameter of any other container (a set, a dict view, a range) is refused by asyncpg
  itself, before anything is sent, with its own error ("a sized iterable container
  expected"): a caller that passes one fails loudly, never with a wrong value;
- it changes asyncpg only on the versions whose array encoder it was written against
  (`KNOWN_VERSIONS`), and only the two names that check reads; on any other version it
  changes nothing and says so in the log (tests/unit/test_db_arrays.py fails then, so an
  upgrade is read before it ships).

Why: asyncpg's array encoder (`protocol/codecs/array.pyx`: `_is_array_iterable`, called
by `_get_array_shape` for every element of every array parameter, to tell a nested array
from a value) asks `isinstance(element, collections.abc.Iterable)` and, for a string, also
`collections.abc.Sized`. An isinstance against an ABC runs `ABCMeta.__instancecheck__`, a
Python function: measured on this machine, the encoder spent 280 ns on a text element
(50 once narrowed), 160 on an integer (70) and 300 on a UUID (210). Regia sends its rows
as column arrays for `unnest`, a few dozen elements an event and thousands a batch, so
narrowing that check cut funding's CPU an event end to end by about a tenth, and every
service's by 6-10 % (docs/performance.md, issue 21, twelfth session). The two names are module globals of asyncpg's compiled protocol, read
at each call; pointing them to the concrete types makes each check a C type test.

Hand-written because asyncpg has no option for it; the check is asyncpg's to change, and
an upstream change that makes it cheap makes this module unnecessary.
"""

import asyncpg
import asyncpg.protocol.protocol as _protocol

from regia_shared.observability.logs import get_logger

log = get_logger(__name__)

# The containers an array parameter may be; list first, as nearly every one is. Each type
# more costs every element a failed type test (about 20 ns): kept to what Regia passes.
ARRAY_CONTAINERS: tuple[type, ...] = (list, tuple)
# asyncpg versions (major, minor) whose `_is_array_iterable` reads `IterableABC` and
# `SizedABC` as above, and is the only reader of them (read in 0.29.0, 0.30.0, 0.31.0 and
# 0.32.0: the same in all four; asyncpg's own introspection passes its type ids as a list).
KNOWN_VERSIONS = frozenset({(0, 29), (0, 30), (0, 31), (0, 32)})


def _version() -> tuple[int, int]:
    major, minor, *_ = asyncpg.__version__.split(".")
    return int(major), int(minor)


def narrowed() -> bool:
    """Whether this process's asyncpg checks array elements against `ARRAY_CONTAINERS`."""
    return getattr(_protocol, "IterableABC", None) is ARRAY_CONTAINERS


def narrow_array_checks() -> bool:
    """Narrow asyncpg's array check to `ARRAY_CONTAINERS`, once per process; whether it is."""
    if narrowed():
        return True
    if _version() not in KNOWN_VERSIONS or not all(hasattr(_protocol, n) for n in ("IterableABC", "SizedABC")):
        log.info("asyncpg array checks left as they are: version not known", asyncpg=asyncpg.__version__)
        return False
    _protocol.IterableABC = ARRAY_CONTAINERS
    _protocol.SizedABC = ARRAY_CONTAINERS
    return True
