"""The links in a person's e-mails to their own preferences, on the console: the one-click
unsubscribe of RFC 8058 (the `List-Unsubscribe` header's URL) and the preferences page (in
the footer). Signed with the key the partners service verifies them with, before it
changes anything (regia_shared.contracts.preference_links says what a token is and why it
is safe). Pure: the key and the day are given.
"""

from dataclasses import dataclass, field
from datetime import date

from regia_shared.contracts.preference_links import PreferenceLink, sign

from .occurrences import CurrentState, Trigger


@dataclass(frozen=True)
class PreferenceLinks:
    key: bytes = field(repr=False)  # the newest key of REGIA_PREFERENCE_LINK_KEY; never printed
    console_url: str  # REGIA_CONSOLE_URL, where people reach the console

    def preferences_page(self, contact_id: str, today: date) -> str:
        token = sign(PreferenceLink(contact_id, "preferences", None, today), self.key)
        return f"{self.console_url.rstrip('/')}/preferences/{token}"

    def unsubscribe(self, contact_id: str, kinds: tuple[str, ...] | None, today: date) -> str:
        """The one-click URL that stops e-mails of `kinds` (None: of every kind)."""
        token = sign(PreferenceLink(contact_id, "unsubscribe", kinds, today), self.key)
        return f"{self.console_url.rstrip('/')}/unsubscribe/{token}"


def unsubscribe_kinds(kind: str, alert: str | None) -> tuple[str, ...] | None:
    """What a one-click unsubscribe from an e-mail stops: the kind of alert it is (the
    state told to a new lead follows the status changes, as its preferences do), or every
    kind for a digest, which gathers several and is what the reader asks to stop."""
    if kind == "digest" or not alert:
        return None
    return (Trigger.STATUS_CHANGED.value,) if alert == CurrentState.alert else (alert,)
