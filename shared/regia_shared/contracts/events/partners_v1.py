"""Version 1 of the partners events whose shape version 2 widened, frozen as published.

Version 2 of `ContactPreferencesChanged` lets a contact choose the weekly digest, gives
each kind of alert its own e-mail cadence (or none: `off`), and reads kinds as strings of
a list that grows (regia_shared.contracts.alert_kinds) instead of the four it first had.
A consumer of version 1 would refuse such a payload, so the event went up a version (a
consumer that knows only version 1 dead-letters version 2 instead of misreading it). The
events of version 1 already published stay readable: `parse_payload` reads them with this
model and hands the consumer the current one, which accepts every version 1 payload.
Never change this module: its schema is the checked-in `ContactPreferencesChanged.v1.json`.
"""

from typing import Literal

from pydantic import Field

from regia_shared.contracts.events.envelope import EventPayload


class ContactPreferencesChanged(EventPayload):
    partner_id: str = Field(min_length=1, max_length=100)
    contact_id: str = Field(min_length=1, max_length=100)
    channels: list[Literal["email", "webhook"]] = Field(min_length=1)
    language: Literal["it", "en"]
    cadence: Literal["immediate", "daily_digest"]
    event_kinds: list[Literal["status_changed", "funding_dropped", "line_revoked", "review_closed"]]
