"""Whether a new version of a contract still serves its consumers.

Consumers ignore unknown fields, so adding an optional field is safe. Everything else a
consumer or a replay of old events relies on must hold: no field removed, no field's type,
format or allowed values changed, and no new required field (old events lack it).

One change sits between the two and is reported as a kind of its own, **widened**: a set
of allowed values (an `enum`) that only gains values, nothing else changed. Every old event
still validates against the new contract, so replays are safe, and a consumer already
upgraded reads the new values; but a consumer still on the old contract refuses an event
carrying one (a dead letter). It is safe only if the consumers are deployed before any
producer sends the new values, so the contract tests accept a widening only when it is
listed, with its reason, in `widenings.REVIEWED_WIDENINGS`; docs/operations.md gives the
order.
"""

from dataclasses import dataclass
from typing import Any, Literal

_IGNORED = {"description", "title", "default", "examples"}

WIDENED = "widened: deploy consumers first"


@dataclass(frozen=True)
class Change:
    """One difference that matters to a consumer. `name` is the field or the definition
    that changed; `added` the values a widening adds (empty for a breaking change)."""

    kind: Literal["breaking", "widened"]
    name: str
    text: str
    added: frozenset[str] = frozenset()


def _shape(schema: Any) -> Any:
    """The schema without its prose: what validation depends on."""
    if isinstance(schema, dict):
        return {k: _shape(v) for k, v in schema.items() if k not in _IGNORED}
    if isinstance(schema, list):
        return [_shape(v) for v in schema]
    return schema


def _added_values(old: Any, new: Any) -> frozenset[str] | None:
    """The values `new` adds to the enums of `old` when that is all that differs between
    the two shapes (an empty set when they are the same), else None."""
    if isinstance(old, dict) and isinstance(new, dict):
        if old.keys() != new.keys():
            return None
        added: set[str] = set()
        for key, value in old.items():
            if key == "enum" and isinstance(value, list) and isinstance(new[key], list):
                if not set(map(str, value)) <= set(map(str, new[key])) or len(set(new[key])) != len(new[key]):
                    return None
                added |= set(map(str, new[key])) - set(map(str, value))
            else:
                inner = _added_values(value, new[key])
                if inner is None:
                    return None
                added |= inner
        return frozenset(added)
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return None
        added = set()
        for a, b in zip(old, new, strict=True):
            inner = _added_values(a, b)
            if inner is None:
                return None
            added |= inner
        return frozenset(added)
    return frozenset() if old == new else None


def _changed(kind_of_thing: str, name: str, old: Any, new: Any, breaking_text: str) -> Change:
    added = _added_values(_shape(old), _shape(new))
    if added:
        return Change("widened", name, f"{kind_of_thing} {name!r} {WIDENED} (adds {', '.join(sorted(added))})", added)
    return Change("breaking", name, f"{kind_of_thing} {name!r} {breaking_text}")


def changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every difference between two versions of a contract a consumer would notice,
    breaking or widened; an optional field added and prose changed are not among them."""
    found: list[Change] = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, old_prop in old_props.items():
        if name not in new_props:
            found.append(Change("breaking", name, f"field {name!r} was removed"))
        elif _shape(old_prop) != _shape(new_props[name]):
            found.append(_changed("field", name, old_prop, new_props[name], "changed its type or constraints"))
    for name in sorted(set(new.get("required", [])) - set(old.get("required", []))):
        found.append(Change("breaking", name, f"field {name!r} became required"))
    for name, old_def in old.get("$defs", {}).items():
        new_def = new.get("$defs", {}).get(name)
        if new_def is None:
            found.append(Change("breaking", name, f"definition {name!r} was removed"))
        elif "properties" in old_def:
            found.extend(Change(c.kind, c.name, f"{name}: {c.text}", c.added) for c in changes(old_def, new_def))
        elif _shape(old_def) != _shape(new_def):
            found.append(_changed("definition", name, old_def, new_def, "changed"))
    return found


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Every change as a sentence, widenings included: a widening breaks an old consumer."""
    return [c.text for c in changes(old, new)]
