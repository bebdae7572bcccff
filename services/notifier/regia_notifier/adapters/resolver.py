"""A host's addresses, as the system resolver gives them (for webhook_targets' check)."""

import asyncio
import socket
from ipaddress import ip_address

from ..domain.webhook_targets import Address


async def addresses_of(host: str, port: int) -> list[Address]:
    """Every address `host` resolves to; an IP literal is itself. Empty when it does not
    resolve: the caller refuses that, naming the host."""
    try:
        return [ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    # An IPv6 address may carry a zone ("fe80::1%eth0"): the address is the part before it.
    return list(dict.fromkeys(ip_address(str(info[4][0]).split("%", 1)[0]) for info in found))
