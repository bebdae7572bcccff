"""Frozen dataclasses built at the speed of plain ones: `direct_init`.

Guarantees, for a class decorated with `direct_init` (written above `@dataclass(frozen=True)`):
- an instance is what the stock `__init__` makes: the same fields with the same values,
  set in the same order in the instance's `__dict__`, so equality, hashing, `repr`,
  `dataclasses.replace`, `asdict`, copying and pickling see no difference;
- the signature is the stock one (names, order, kinds and defaults; a default factory is
  called when its argument is left out), compared with it when the class is decorated;
- the instance stays frozen: assigning or deleting a field still raises
  `FrozenInstanceError` (the class's `__setattr__` and `__delattr__` are not touched);
- a shape it does not reproduce (not a frozen dataclass, `__slots__` in it or a base, `__post_init__`, an
  `InitVar`, a field with `init=False`, keyword-only fields, a field named `self`) is
  refused with a TypeError when the class is decorated, at import: never a silently
  different object;
- an `__init__` that dataclasses did not compile (one the class defines, or `init=False`;
  or a Python whose dataclasses compile theirs otherwise) is kept as it is: the class is
  then built as before, only not faster (`has_direct_init` says which;
  tests/unit/test_frozen_init.py checks that every decorated class has it on the Python
  that runs the suite, so such a Python is noticed before it ships).

Why: CPython's dataclasses (3.11 to 3.13) write each field of a frozen dataclass as
`object.__setattr__(self, name, value)`, a global, an attribute and a call per field,
since the class's own `__setattr__` refuses. Measured on this machine, a nine-field frozen
instance took 1,537 ns to build where a plain one took 334 and one stored straight into its
`__dict__` 543. The domain's value objects are built per event on every hot path (a line's
state and change in objectives, a funding line and its ledger entry in funding, a consumed
record in every consumer): in the end-to-end benchmark the stock frozen `__init__` was
5-6 % of funding's and objectives' samples (docs/performance.md, issue 21, thirteenth
session). Storing into `__dict__` is what a frozen dataclass's `__setattr__` guards against
from outside, not from its own constructor; the stock `__init__` ends in the same state.

Hand-written because dataclasses has no option for it (attrs' frozen classes measured 997
ns, with the same call per field). Used only on the value objects a profile showed on a
hot path; every other frozen dataclass keeps the stock `__init__`.
"""

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

C = TypeVar("C", bound=type)

# Every class decorated, in the order they were imported (the tests look at them).
DECORATED: list[type] = []

_SELF = "__direct_init_self__"  # the generated function's names: no field can be called so
_STORE = "__direct_init_dict__"


def direct_init(cls: C) -> C:
    """Give a frozen dataclass an `__init__` that stores its fields straight into the
    instance's `__dict__` (see the module's guarantees); returns the class."""
    _refuse_unreproduced(cls)
    DECORATED.append(cls)
    if not _generated(cls.__dict__.get("__init__")):
        return cls  # not the constructor dataclasses writes: kept, whatever it does
    stock: Callable[..., None] = cls.__init__  # type: ignore[misc]  # the dataclass's own
    stock_parameters = list(inspect.signature(stock).parameters.values())[1:]  # after self
    namespace: dict[str, Any] = {}
    parameters, body = [], [f"    {_STORE} = {_SELF}.__dict__"]
    for n, (f, p) in enumerate(zip(dataclasses.fields(cls), stock_parameters, strict=False)):
        default = f"__default_{n}"
        if f.default is not dataclasses.MISSING:
            namespace[default] = f.default
            parameters.append(f"{f.name}={default}")
            body.append(f"    {_STORE}[{f.name!r}] = {f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            # The stock signature's own marker for "left out, call the factory".
            namespace[default], namespace[f"__factory_{n}"] = p.default, f.default_factory
            parameters.append(f"{f.name}={default}")
            body.append(f"    {_STORE}[{f.name!r}] = __factory_{n}() if {f.name} is {default} else {f.name}")
        else:
            parameters.append(f.name)
            body.append(f"    {_STORE}[{f.name!r}] = {f.name}")
    source = f"def __init__({', '.join([_SELF, *parameters])}):\n" + "\n".join(body) + "\n"
    # Our own text, from the class's field names; named so a traceback or a profile says
    # whose constructor it is.
    exec(compile(source, f"<direct_init {cls.__module__}.{cls.__qualname__}>", "exec"), namespace)  # noqa: S102
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = stock.__doc__
    init.__annotations__ = dict(stock.__annotations__)  # what `inspect.signature` shows
    if _shape(init) != _shape(stock):
        raise TypeError(f"{cls.__qualname__}: direct_init would change the signature {inspect.signature(stock)}")
    cls.__init__ = init  # type: ignore[misc]
    return cls


def has_direct_init(cls: type) -> bool:
    """Whether `direct_init` gave this class its constructor."""
    code = getattr(cls.__dict__.get("__init__"), "__code__", None)
    return code is not None and code.co_filename.startswith("<direct_init ")


def _refuse_unreproduced(cls: type) -> None:
    params = getattr(cls, "__dataclass_params__", None)
    why = (
        "not a dataclass"
        if params is None
        else "not frozen"
        if not params.frozen
        else "__slots__ in it or a base (a field in a slot, not in __dict__)"
        if any("__slots__" in c.__dict__ for c in cls.__mro__[:-1])
        else "__post_init__"
        if hasattr(cls, "__post_init__")
        else "a field with init=False"
        if any(not f.init for f in dataclasses.fields(cls))
        else "a field named self"
        if any(f.name == "self" for f in dataclasses.fields(cls))
        else None
    )
    if why is not None:
        raise TypeError(f"{cls.__qualname__}: direct_init does not reproduce a class with {why}")


def _generated(init: object) -> bool:
    """Whether a class's `__init__` is the one dataclasses wrote (compiled from its own
    text), not one the class defines, which dataclasses leaves in place."""
    code = getattr(init, "__code__", None)
    return code is not None and code.co_filename == "<string>"


def _shape(function: Callable[..., Any]) -> list[tuple[str, Any, Any]]:
    """A signature without its annotations and the name of its first parameter: what a
    caller sees. An InitVar or a keyword-only field makes the stock one differ."""
    parameters = list(inspect.signature(function).parameters.values())[1:]
    return [(p.name, p.kind, p.default) for p in parameters]
