"""The published JSON Schema of the webhook payloads, checked in beside its models
(domain/webhook-payload.schema.json) for webhook consumers to read.

`python -m regia_notifier.entrypoints.payload_schema` rewrites the checked-in file from the
models; a unit test fails while the two differ. A change that drops, renames or narrows a
field breaks receivers: say so in docs/api.md.
"""

import json
from pathlib import Path
from typing import Any

from ..domain import webhook_payload

SCHEMA_PATH = Path(webhook_payload.__file__).parent / webhook_payload.SCHEMA_FILE


def current() -> dict[str, Any]:
    return webhook_payload.schema()


def checked_in() -> dict[str, Any]:
    found: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
    return found


def write() -> Path:
    SCHEMA_PATH.write_text(json.dumps(current(), indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return SCHEMA_PATH


if __name__ == "__main__":
    print(f"wrote {write()}")
