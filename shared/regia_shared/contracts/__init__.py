"""The event contracts' JSON Schemas, checked in beside the code, and the rule that says
whether a change to a contract is safe for consumers and for replays of old events."""
