"""An alert as the bytes of an e-mail (what an SMTP client sends after DATA).

Written out here rather than built with the email package: its EmailMessage API parses
every header through a header registry and its generator walks the message again to write
it, which together cost more CPU than the rest of sending an alert (2.8 ms, then still
0.8 ms with the compat32 classes). The shape is fixed and small: headers (non-ASCII ones
RFC 2047-encoded by the email package's own Header), then either one UTF-8 text part or
multipart/alternative with plain text first (a client shows the last part it can render,
and one that cannot render HTML still has the whole message), each part in base64, whose
lines are short and can never start with a dot or look like a boundary.
Addresses are written as `domain.addresses` says: an internationalised domain as IDNA
A-labels (the message stays ASCII), a non-ASCII local part in UTF-8 (RFC 6532; the mailer
sends that message only with SMTPUTF8). Display names stay RFC 2047-encoded either way.
`tests/unit/test_notifier_messages.py` reads the result back with the email package.
"""

import base64
import functools
import unicodedata
from datetime import UTC, datetime
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr
from urllib.parse import quote

from ..domain.addresses import mailbox
from ..domain.delivery import ClaimedDelivery


def one_line(text: str) -> str:
    """Text for a header: a name or title that reached us with line breaks or other control
    characters (an event is a way in too) keeps its words on one line, so it can neither
    forge a header nor make the message impossible to build."""
    return " ".join("".join(" " if unicodedata.category(c) in _BREAKING else c for c in text).split())


_BREAKING = {"Cc", "Zl", "Zp"}  # control characters, line and paragraph separators


def compose(delivery: ClaimedDelivery, sender: str, unsubscribe_url: str | None = None) -> bytes:
    """The e-mail of a delivery, as the bytes sent after DATA. With `unsubscribe_url`, it
    says how to unsubscribe in one click (RFC 2369's List-Unsubscribe, RFC 8058's
    List-Unsubscribe-Post): a mail client's "unsubscribe" button POSTs to that URL."""
    head = [
        ("From", _sender(sender)),
        ("To", _mailbox_header(one_line(delivery.recipient_name), mailbox(delivery.recipient).header)),
        (
            "Subject",
            Header(
                one_line(delivery.subject), "us-ascii" if delivery.subject.isascii() else "utf-8", header_name="Subject"
            ).encode(linesep=_CRLF),
        ),
        ("Date", format_datetime(datetime.now(UTC))),
        # Stable across attempts: a copy re-sent after a lost acknowledgement is recognisable.
        ("Message-ID", f"<{delivery.delivery_id}@{_domain(sender)}>"),
        ("X-Regia-Event-Id", str(delivery.cause_event_id)),
        ("X-Regia-Delivery-Id", str(delivery.delivery_id)),
        # RFC 3834: tells vacation responders not to answer an automatic message.
        ("Auto-Submitted", "auto-generated"),
        ("Content-Language", one_line(delivery.language)),
        *_one_click(unsubscribe_url),
        ("MIME-Version", "1.0"),
    ]
    lines = [f"{name}: {value}" for name, value in head]
    if delivery.body_html is None:
        lines += [*_part_headers("plain"), "", _base64(delivery.body)]
    else:
        boundary = f"=_regia.{delivery.delivery_id.hex}"  # "." and "_" are not base64
        lines += [f'Content-Type: multipart/alternative; boundary="{boundary}"', ""]
        for subtype, text in (("plain", delivery.body), ("html", delivery.body_html)):
            lines += [f"--{boundary}", *_part_headers(subtype), "", _base64(text)]
        lines += [f"--{boundary}--", ""]
    # UTF-8 only for an internationalised address (sent with SMTPUTF8); all else is ASCII.
    return _CRLF.join(lines).encode("utf-8")


_CRLF = "\r\n"

# What may stand in a URI as it is (RFC 3986's reserved and unreserved characters, and
# the percent of what is already encoded): the rest is percent-encoded, so the header can
# hold neither a space, a `>` nor a line break, whatever REGIA_CONSOLE_URL holds.
_URI_SAFE = ":/?#[]@!$&'()*+,;=%-._~"


def _one_click(url: str | None) -> list[tuple[str, str]]:
    if not url:
        return []
    return [
        ("List-Unsubscribe", f"<{quote(url, safe=_URI_SAFE)}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    ]


def _part_headers(subtype: str) -> list[str]:
    return [f'Content-Type: text/{subtype}; charset="utf-8"', "Content-Transfer-Encoding: base64"]


def _base64(text: str) -> str:
    return base64.encodebytes(text.encode("utf-8")).decode("ascii").rstrip("\n").replace("\n", _CRLF)


def _mailbox_header(name: str, address: str) -> str:
    """`Name <address>`, the name RFC 2047-encoded when it is not ASCII, and the address
    as given: formataddr would do it but refuses a non-ASCII address outright."""
    if address.isascii():
        return formataddr((name, address), charset="utf-8")
    return (
        f"{formataddr((name, _PLACEHOLDER), charset='utf-8').removesuffix(f'<{_PLACEHOLDER}>')}<{address}>"
        if name
        else address
    )


_PLACEHOLDER = "x@x"


@functools.cache
def _sender(sender: str) -> str:
    # REGIA_SMTP_FROM's local part is ASCII (the settings refuse another), so its header
    # form is ASCII too: the message needs SMTPUTF8 only for its recipient's sake.
    name, address = parseaddr(sender)
    return formataddr((name, mailbox(address).header), charset="utf-8")


@functools.cache
def _domain(sender: str) -> str:
    return mailbox(parseaddr(sender)[1]).envelope.rpartition("@")[2] or "regia.invalid"
