"""Event contracts: the envelope and every event type, with a registry by type name."""

from .envelope import Envelope
from .registry import EVENT_TYPES, parse_payload

__all__ = ["Envelope", "EVENT_TYPES", "parse_payload"]
