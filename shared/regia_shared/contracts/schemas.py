"""Export the current JSON Schema of every event type and of the envelope.

`python -m regia_shared.contracts.schemas` rewrites the checked-in files; do it only for a
compatible change (the contract tests say which), or bump the event's VERSION.
"""

import json
from pathlib import Path
from typing import Any

from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.registry import EARLIER_VERSIONS, EVENT_TYPES

SCHEMA_DIR = Path(__file__).parent / "schemas"


def current() -> dict[str, dict[str, Any]]:
    """File name -> schema, for the envelope and each event type at its version, and at
    each earlier version still read (events of it may be replayed)."""
    found = {"Envelope.json": Envelope.model_json_schema()}
    for name, model in EVENT_TYPES.items():
        found[f"{name}.v{model.event_version()}.json"] = model.model_json_schema()
    for (name, version), earlier in EARLIER_VERSIONS.items():
        found[f"{name}.v{version}.json"] = earlier.model_json_schema()
    return found


def checked_in() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text()) for p in sorted(SCHEMA_DIR.glob("*.json"))}


def write() -> list[str]:
    SCHEMA_DIR.mkdir(exist_ok=True)
    written = []
    for name, schema in current().items():
        (SCHEMA_DIR / name).write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        written.append(name)
    return written


if __name__ == "__main__":
    for name in write():
        print(f"wrote {SCHEMA_DIR / name}")
