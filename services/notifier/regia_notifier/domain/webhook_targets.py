"""Where a webhook may be sent: never inward.

A webhook's URL is given by whoever registers it, and the notifier then POSTs to it from
inside the deployment: aimed at a private address (the database, the broker, a cloud's
metadata endpoint, 127.0.0.1), it would make the notifier a way in. So a target holds only
when:

- its scheme is https, and every address its host resolves to is public (globally
  routable, in Python's `ipaddress` sense); or
- every address it resolves to is inside a network the administrator listed
  (`REGIA_NOTIFIER_WEBHOOK_ALLOWED_NETWORKS`, e.g. an institution's intranet), where plain
  http is also allowed, since such a network is the administrator's to vouch for.

Every address counts, not the first: a name resolving to one public and one private address
could be answered either way at sending time. Redirects are never followed (the sender's
client), so a public endpoint cannot bounce the call inward. Pure: the caller resolves.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_network
from urllib.parse import urlsplit, urlunsplit

from regia_shared.contracts.refusal import Refused

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network


class WebhookTargetRefused(Refused):
    status, code = 422, "webhook_target_refused"


def parse_networks(text: str) -> tuple[Network, ...]:
    """The setting's comma-separated CIDRs (ValueError, naming the bad one, otherwise)."""
    networks = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            networks.append(ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"{part!r} is not a network such as 10.20.0.0/16 or 127.0.0.1/32") from None
    return tuple(networks)


def host_of(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.hostname is None:
        raise WebhookTargetRefused(f"{url!r} names no host", "url")
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def check_target(url: str, addresses: Sequence[Address], allowed: Sequence[Network]) -> None:
    """Raise WebhookTargetRefused, saying why, unless `url` may be called (see above)."""
    scheme = urlsplit(url).scheme
    host, _ = host_of(url)
    if not addresses:
        raise WebhookTargetRefused(f"{host} resolves to no address", "url")
    listed = [a for a in addresses if any(a in network for network in allowed)]
    if len(listed) == len(addresses):
        return  # all inside networks the administrator vouches for: http or https
    inward = sorted({str(a) for a in addresses if a not in listed and not a.is_global})
    if inward:
        raise WebhookTargetRefused(
            f"{host} resolves to {', '.join(inward)}, which is not a public address: a webhook may "
            "not call into the deployment's own networks (an administrator may allow a private "
            "network with REGIA_NOTIFIER_WEBHOOK_ALLOWED_NETWORKS)",
            "url",
        )
    if scheme != "https":
        raise WebhookTargetRefused(
            f"a webhook to a public address must use https, not {scheme}: its body is signed, not secret",
            "url",
        )


@dataclass(frozen=True)
class PinnedTarget:
    """A webhook's URL with its host replaced by an address that was checked, so the call
    connects where the check looked and a name cannot resolve elsewhere in between (DNS
    rebinding). The request still names the host: in `Host` and, over TLS, as the server
    name the certificate must match (httpx's `sni_hostname` extension)."""

    url: str
    host_header: str
    server_name: str


def pinned(url: str, address: Address) -> PinnedTarget:
    parts = urlsplit(url)
    host, _ = host_of(url)
    literal = f"[{address}]" if address.version == 6 else str(address)
    userinfo, at, host_header = parts.netloc.rpartition("@")  # never userinfo in Host
    netloc = f"{userinfo}{at}{literal}" + ("" if parts.port is None else f":{parts.port}")
    return PinnedTarget(urlunsplit(parts._replace(netloc=netloc)), host_header, host)
