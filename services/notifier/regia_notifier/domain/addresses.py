"""How an e-mail address is written on the wire: in the SMTP envelope and in the headers. Pure.

Addresses reach the notifier as registered (partners keeps them in Unicode: NFC, domain in
lower case, e.g. `josé@comune.it`, `info@città.it`). Two cases differ:

- a non-ASCII *domain* alone needs nothing from the server: it is written as IDNA A-labels
  (`info@xn--citt-3na.it`), which every server and DNS take, in the envelope and in To;
- a non-ASCII *local part* has no ASCII form: only a server that offers SMTPUTF8
  (RFC 6531) can take it, with the header written in UTF-8 (RFC 6532). Its domain stays in
  A-labels in the envelope (what routing looks up) and as registered in the header (what
  the reader recognises as theirs).
"""

import functools
import unicodedata
from dataclasses import dataclass

import idna

from .errors import UnusableAddress


@dataclass(frozen=True)
class Mailbox:
    envelope: str  # for MAIL FROM / RCPT TO
    header: str  # the addr-spec written in From / To
    smtputf8: bool  # only a server offering SMTPUTF8 can take it


@functools.lru_cache(maxsize=4096)  # the same few addresses, message after message
def mailbox(address: str) -> Mailbox:
    local, at, domain = address.rpartition("@")
    if (
        not at
        or not local
        or not domain
        or any(c.isspace() or unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in address)
    ):
        # Registration refuses these; an event from elsewhere must not forge a command line.
        raise UnusableAddress(f"{address!r} is not an e-mail address that can be sent to")
    local = unicodedata.normalize("NFC", local)
    if domain.isascii():
        ascii_domain = domain
    else:
        try:
            # IDNA 2008 with the UTS 46 mapping, as email-validator (registration) checks it;
            # Python's own "idna" codec is IDNA 2003, which maps ß to ss: another domain.
            ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise UnusableAddress(
                f"the domain of {address!r} is not a valid internationalised domain name ({exc})"
            ) from None
    if local.isascii():
        ascii_address = f"{local}@{ascii_domain}"
        return Mailbox(ascii_address, ascii_address, smtputf8=False)
    return Mailbox(f"{local}@{ascii_domain}", f"{local}@{unicodedata.normalize('NFC', domain)}", smtputf8=True)
