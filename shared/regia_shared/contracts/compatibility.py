"""Whether a new version of a contract still serves its consumers.

Consumers ignore unknown fields, so adding an optional field is safe. Everything else a
consumer or a replay of old events relies on must hold: no field removed, no field's type,
format or allowed values changed, and no new required field (old events lack it).
"""

from typing import Any

_IGNORED = {"description", "title", "default", "examples"}


def _shape(schema: Any) -> Any:
    """The schema without its prose: what validation depends on."""
    if isinstance(schema, dict):
        return {k: _shape(v) for k, v in schema.items() if k not in _IGNORED}
    if isinstance(schema, list):
        return [_shape(v) for v in schema]
    return schema


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, old_prop in old_props.items():
        if name not in new_props:
            problems.append(f"field {name!r} was removed")
        elif _shape(old_prop) != _shape(new_props[name]):
            problems.append(f"field {name!r} changed its type or constraints")
    for name in set(new.get("required", [])) - set(old.get("required", [])):
        problems.append(f"field {name!r} became required")
    for name, old_def in old.get("$defs", {}).items():
        new_def = new.get("$defs", {}).get(name)
        if new_def is None:
            problems.append(f"definition {name!r} was removed")
        elif "properties" in old_def:
            problems.extend(f"{name}: {p}" for p in breaking_changes(old_def, new_def))
        elif _shape(old_def) != _shape(new_def):
            problems.append(f"definition {name!r} changed")
    return problems
