"""What erasing a contact on request (GDPR art. 17) leaves in the notifier's records. Pure.

The delivery rows stay, with their status, attempts, times, subject and the contact's id
(what happened, and how often, is history the console and the metrics count); what tells
who the person was goes: the address becomes `erased:<delivery id>` (unique, as the
address was per cause and channel), the name empty, and the body, which greets them by
name, a note that it was erased. Addresses inside free text (an SMTP server's error, the
recipient of an AlertDelivered in the outbox) are replaced wherever they appear, in any
case, since mail servers echo an address as they please."""

import re
from collections.abc import Iterable

ERASED_NAME = ""
ERASED_ADDRESS = "[erased]"
ERASED_BODY = "[The content of this message was erased with its recipient's personal data, on their request.]"


def erased_recipient(delivery_id: str) -> str:
    """What stands for the address on an erased contact's delivery: unique per delivery."""
    return f"erased:{delivery_id}"


def without_addresses(text: str, addresses: Iterable[str]) -> str:
    """`text` with every occurrence of each address, in any case, replaced by ERASED_ADDRESS."""
    for address in sorted({a for a in addresses if a}, key=len, reverse=True):
        text = re.sub(re.escape(address), ERASED_ADDRESS, text, flags=re.IGNORECASE)
    return text


def mentions(text: str, addresses: Iterable[str]) -> bool:
    folded = text.casefold()
    return any(a and a.casefold() in folded for a in addresses)
