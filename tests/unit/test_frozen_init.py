"""Frozen dataclasses with a direct `__init__` (regia_shared.frozen_init): the same objects
as the stock constructor makes, the same signature, still frozen; and the shapes it does
not reproduce refused when the class is decorated."""

import copy
import dataclasses
import importlib
import inspect
import pickle
from dataclasses import FrozenInstanceError, InitVar, dataclass, field

import pytest

from regia_shared.frozen_init import DECORATED, direct_init, has_direct_init


def _pair() -> tuple[type, type]:
    """The same class twice: one with the stock `__init__`, one with the direct one."""

    def make() -> type:
        @dataclass(frozen=True)
        class Line:
            line_id: str
            committed_cents: int
            tags: list[str] = field(default_factory=list)
            reason: str | None = None
            version: int = 1
            owners: dict[str, int] = field(default_factory=dict, compare=False)

        return Line

    return make(), direct_init(make())


STOCK, DIRECT = _pair()


@dataclass(frozen=True)
class Base:
    a: int
    b: str = "b"


@direct_init
@dataclass(frozen=True)
class Derived(Base):
    c: float = 0.5


# Module-level, so pickle can find it by name.
@direct_init
@dataclass(frozen=True)
class Pickled:
    x: int
    y: tuple[int, ...] = ()


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("L1", 100), {}),
        (("L1", 100, ["x"]), {}),
        (("L1",), {"committed_cents": 5, "reason": "DGR 1/2026"}),
        ((), {"line_id": "L2", "committed_cents": 0, "version": 7, "owners": {"a": 1}}),
        (("L3", -1, ["a", "b"], None, 2, {"k": 2}), {}),
    ],
)
def test_an_instance_is_what_the_stock_init_makes(args: tuple, kwargs: dict) -> None:
    stock, direct = STOCK(*args, **kwargs), DIRECT(*args, **kwargs)
    assert vars(direct) == vars(stock)
    assert list(vars(direct)) == list(vars(stock))  # the same order
    assert repr(direct).replace("DIRECT", "") == repr(stock).replace("STOCK", "")
    assert dataclasses.asdict(direct) == dataclasses.asdict(stock)


def test_a_default_factory_is_called_for_each_instance_left_without_it() -> None:
    one, two = DIRECT("L", 1), DIRECT("L", 1)
    assert one.tags == [] and one.owners == {}
    assert one.tags is not two.tags and one.owners is not two.owners
    given: list[str] = ["kept"]
    assert DIRECT("L", 1, given).tags is given


def test_the_signature_is_the_stock_one() -> None:
    assert str(inspect.signature(DIRECT)) == str(inspect.signature(STOCK))
    assert DIRECT.__init__.__qualname__.endswith("Line.__init__")


def test_wrong_arguments_fail_as_they_do_with_the_stock_init() -> None:
    for call in (lambda c: c(), lambda c: c("L"), lambda c: c("L", 1, nope=2), lambda c: c("L", 1, line_id="M")):
        with pytest.raises(TypeError):
            call(STOCK)
        with pytest.raises(TypeError):
            call(DIRECT)


def test_an_instance_stays_frozen() -> None:
    line = DIRECT("L", 1)
    with pytest.raises(FrozenInstanceError):
        line.committed_cents = 2  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del line.reason  # type: ignore[misc]
    assert line.committed_cents == 1


def test_equality_hashing_replace_copy_and_pickle_see_no_difference() -> None:
    line = Pickled(3, (1, 2))
    assert line == Pickled(3, (1, 2)) and hash(line) == hash(Pickled(3, (1, 2)))
    assert {line: "found"}[Pickled(3, (1, 2))] == "found"
    moved = dataclasses.replace(line, x=4)
    assert moved == Pickled(4, (1, 2)) and line.x == 3
    assert copy.copy(line) == line and copy.deepcopy(line) == line
    assert pickle.loads(pickle.dumps(line)) == line


def test_inherited_fields_come_first_as_with_the_stock_init() -> None:
    derived = Derived(1, c=2.0)
    assert list(vars(derived).items()) == [("a", 1), ("b", "b"), ("c", 2.0)]
    assert str(inspect.signature(Derived)) == "(a: int, b: str = 'b', c: float = 0.5) -> None"


def test_an_init_dataclasses_did_not_write_is_kept_as_it_is() -> None:
    @dataclass(frozen=True, init=False)
    class OwnInit:
        a: int

        def __init__(self, a: str) -> None:
            object.__setattr__(self, "a", int(a))

    @dataclass(frozen=True)
    class DefinesInit:  # dataclasses keeps an __init__ the class defines
        a: int

        def __init__(self, a: int) -> None:
            object.__setattr__(self, "a", abs(a))

    for cls in (OwnInit, DefinesInit):
        own = cls.__init__
        assert direct_init(cls) is cls and cls.__init__ is own and not has_direct_init(cls)
    assert OwnInit("7").a == 7 and DefinesInit(-3).a == 3


def test_every_class_of_regia_decorated_has_its_direct_init_on_this_python() -> None:
    # Fails on a Python whose dataclasses compile their constructor otherwise: those
    # classes are then built by the stock constructor (correct, not faster); read what
    # changed in dataclasses before that Python ships.
    for module in (
        "regia_shared.messaging.consumer",
        "regia_funding.adapters.lines",
        "regia_funding.service_layer.recording",
        "regia_objectives.service_layer.projection",
        "regia_notifier.domain.causes",
    ):
        importlib.import_module(module)  # and, with it, the modules it imports
    names = {c.__qualname__ for c in DECORATED}
    assert {"Received", "OutboxRow", "FundingLine", "Recorded", "LineState", "YearCoverage", "FundingCause"} <= names
    assert [c.__qualname__ for c in DECORATED if not has_direct_init(c) and c.__module__.startswith("regia")] == []


def test_shapes_it_does_not_reproduce_are_refused_when_decorated() -> None:
    class Plain:
        pass

    @dataclass
    class NotFrozen:
        a: int

    @dataclass(frozen=True, slots=True)
    class Slotted:
        a: int

    @dataclass(frozen=True)
    class OnASlottedBase(Slotted):
        b: int = 0

    @dataclass(frozen=True)
    class PostInit:
        a: int

        def __post_init__(self) -> None:
            pass

    @dataclass(frozen=True)
    class Derivedfield:
        a: int
        b: int = field(init=False, default=0)

    @dataclass(frozen=True, kw_only=True)
    class KeywordOnly:
        a: int

    @dataclass(frozen=True)
    class WithInitVar:
        a: int
        scale: InitVar[int] = 1

    for cls, why in [
        (Plain, "not a dataclass"),
        (NotFrozen, "not frozen"),
        (Slotted, "__slots__"),
        (OnASlottedBase, "__slots__ in it or a base"),
        (PostInit, "__post_init__"),
        (Derivedfield, "init=False"),
        (KeywordOnly, "would change the signature"),
        (WithInitVar, "would change the signature"),
    ]:
        stock = cls.__init__
        with pytest.raises(TypeError, match=why):
            direct_init(cls)
        assert cls.__init__ is stock  # left as it was
