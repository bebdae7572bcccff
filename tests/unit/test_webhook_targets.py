"""Where a webhook may be sent (notifier domain/webhook_targets.py): https to public
addresses, or anything inside a network the administrator allowed; never inward."""

from ipaddress import ip_address

import pytest

from regia_notifier.domain.webhook_targets import (
    PinnedTarget,
    WebhookTargetRefused,
    check_target,
    parse_networks,
    pinned,
)

PUBLIC, PUBLIC_V6 = ip_address("93.184.216.34"), ip_address("2606:2800:220:1:248:1893:25c8:1946")
INTRANET = parse_networks("10.20.0.0/16, 127.0.0.1/32")


def refusal(url: str, *addresses: str, allowed: str = "") -> str:
    with pytest.raises(WebhookTargetRefused) as refused:
        check_target(url, [ip_address(a) for a in addresses], parse_networks(allowed))
    assert refused.value.field == "url" and refused.value.status == 422
    return refused.value.message


def test_https_to_public_addresses_is_allowed() -> None:
    check_target("https://hooks.example.org/regia", [PUBLIC, PUBLIC_V6], ())


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "::1",
        "10.0.0.5",
        "172.16.3.4",
        "192.168.1.1",
        "169.254.169.254",
        "0.0.0.0",
        "fd00::1",
        "100.64.0.1",
    ],
)
def test_an_inward_address_is_refused_whatever_the_scheme(address: str) -> None:
    message = refusal("https://internal.example.org/", address)
    assert address in message and "not a public address" in message and "ALLOWED_NETWORKS" in message


def test_one_inward_address_among_public_ones_is_enough_to_refuse() -> None:
    assert "10.0.0.5" in refusal("https://mixed.example.org/", str(PUBLIC), "10.0.0.5")


def test_plain_http_to_a_public_address_is_refused() -> None:
    assert "must use https" in refusal("http://hooks.example.org/", str(PUBLIC))


def test_a_host_that_resolves_to_nothing_is_refused() -> None:
    assert "resolves to no address" in refusal("https://nowhere.invalid/")


def test_an_allowed_network_takes_http_and_https_but_only_inside_it() -> None:
    check_target("http://10.20.3.4:8080/hook", [ip_address("10.20.3.4")], INTRANET)
    check_target("https://127.0.0.1/hook", [ip_address("127.0.0.1")], INTRANET)
    assert "127.0.0.2" in refusal("http://127.0.0.2/", "127.0.0.2", allowed="10.20.0.0/16, 127.0.0.1/32")


def test_the_setting_names_a_bad_network() -> None:
    with pytest.raises(ValueError, match="'10.20.0.0/33' is not a network"):
        parse_networks("10.0.0.0/8, 10.20.0.0/33")
    assert parse_networks("") == ()


def test_a_call_is_pinned_to_the_address_that_was_checked() -> None:
    # The name is kept for Host and for the certificate's name; the connection goes to the
    # address checked, so a name re-resolving elsewhere a moment later changes nothing.
    target = pinned("https://hooks.example.org/regia?x=1", ip_address("93.184.216.34"))
    assert target == PinnedTarget("https://93.184.216.34/regia?x=1", "hooks.example.org", "hooks.example.org")
    target = pinned("https://user:pw@hooks.example.org:8443/h", ip_address("2001:db8::1"))
    assert target == PinnedTarget("https://user:pw@[2001:db8::1]:8443/h", "hooks.example.org:8443", "hooks.example.org")
