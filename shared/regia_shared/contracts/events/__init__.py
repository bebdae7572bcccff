"""Event contracts: the envelope and every event type, with a registry by type name."""

from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.registry import EVENT_TYPES, parse_payload

__all__ = ["Envelope", "EVENT_TYPES", "parse_payload"]
