"""The signed links of e-mails (regia_shared.contracts.preference_links): what the notifier
signs the partners service reads back, and nothing else verifies: not a changed byte, not
another key, not a link older than links are good for. The key is never shown."""

import base64
import hashlib
import hmac
import re
from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from regia_shared.contracts.preference_links import (
    MAX_TOKEN_LENGTH,
    ExpiredLink,
    InvalidLink,
    PreferenceLink,
    parse_keys,
    sign,
    verify,
)
from regia_shared.settings import PreferenceLinkSettings

KEY = b"k" * 32
OLD = b"o" * 32
TODAY = date(2026, 11, 26)
UNSUBSCRIBE = PreferenceLink("rossi", "unsubscribe", ("status_changed",), TODAY)


def check(token: str, keys: tuple[bytes, ...] = (KEY,), today: date = TODAY, max_age_days: int = 365) -> PreferenceLink:
    return verify(token, keys, today=today, max_age_days=max_age_days)


@pytest.mark.parametrize(
    "link",
    [
        UNSUBSCRIBE,
        PreferenceLink("rossi", "unsubscribe", None, TODAY),  # every kind: a digest's
        PreferenceLink("c.1:x-y", "preferences", None, TODAY),
        PreferenceLink("rossi", "unsubscribe", ("line_revoked", "funding_dropped"), TODAY),
    ],
)
def test_what_is_signed_is_what_is_read_and_fits_in_a_url(link: PreferenceLink) -> None:
    token = sign(link, KEY)
    read = check(token)
    assert read == PreferenceLink(
        link.contact_id, link.purpose, None if link.kinds is None else tuple(sorted(link.kinds)), link.issued_on
    )
    assert re.fullmatch(r"[A-Za-z0-9._-]+", token) and len(token) < 250


def test_a_token_says_what_it_is_for_in_the_clear_but_only_the_key_vouches_for_it() -> None:
    token = sign(UNSUBSCRIBE, KEY)
    version, body, mac = token.split(".")
    assert version == "1"

    def with_body(text: bytes) -> str:
        return ".".join([version, base64.urlsafe_b64encode(text).rstrip(b"=").decode(), mac])

    forgeries = [
        with_body(b'["unsubscribe","bianchi",["status_changed"],"2026-11-26"]'),  # another contact
        with_body(b'["preferences","rossi",["status_changed"],"2026-11-26"]'),  # more power
        with_body(b'["unsubscribe","rossi","all","2026-11-26"]'),  # more kinds
        with_body(b'["unsubscribe","rossi",["status_changed"],"2026-11-27"]'),  # younger
        ".".join([version, body, mac[:-2] + ("AA" if mac[-2:] != "AA" else "BB")]),  # the MAC touched
        ".".join([version, body, ""]),
        sign(UNSUBSCRIBE, b"x" * 32),  # someone else's key
    ]
    for forged in forgeries:
        with pytest.raises(InvalidLink) as refused:
            check(forged)
        assert not isinstance(refused.value, ExpiredLink)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "1",
        "1.abc",
        "2.YWJj.YWJj",  # a version this one does not know
        "1.a$c.YWJj",  # not base64url
        "1.YWJj.YWJj.YWJj",
        "1." + "A" * MAX_TOKEN_LENGTH + ".YWJj",
        "1.a.b",  # one character is no base64 of anything
    ],
)
def test_what_is_not_a_token_is_refused_as_such(token: str) -> None:
    with pytest.raises(InvalidLink, match="not a link Regia made"):
        check(token)


def test_a_body_signed_with_the_key_but_not_of_this_shape_is_refused() -> None:
    for body in (b"{}", b'["unsubscribe","",[],"2026-11-26"]', b'["delete","rossi","all","2026-11-26"]', b"\xff"):
        mac = hmac.new(KEY, b"regia-preference-link.1\n" + body, hashlib.sha256).digest()
        token = ".".join(["1", *(base64.urlsafe_b64encode(p).rstrip(b"=").decode() for p in (body, mac))])
        with pytest.raises(InvalidLink, match="not a link this version of Regia reads"):
            check(token)


def test_links_age_out_and_are_never_dated_ahead() -> None:
    token = sign(UNSUBSCRIBE, KEY)
    assert check(token, today=TODAY + timedelta(days=365)) == UNSUBSCRIBE
    with pytest.raises(ExpiredLink, match="made on 2026-11-26 and links are good for 365 days"):
        check(token, today=TODAY + timedelta(days=366))
    assert check(token, today=TODAY + timedelta(days=30), max_age_days=30) == UNSUBSCRIBE
    with pytest.raises(ExpiredLink):
        check(token, today=TODAY + timedelta(days=31), max_age_days=30)
    # The notifier's day may begin before the partners service's: one day ahead is allowed.
    assert check(token, today=TODAY - timedelta(days=1)) == UNSUBSCRIBE
    with pytest.raises(InvalidLink, match="dated in the future"):
        check(token, today=TODAY - timedelta(days=2))


def test_while_the_key_is_replaced_links_made_with_either_verify() -> None:
    made_before = sign(UNSUBSCRIBE, OLD)
    made_after = sign(UNSUBSCRIBE, KEY)
    assert check(made_before, keys=(KEY, OLD)) == check(made_after, keys=(KEY, OLD)) == UNSUBSCRIBE
    with pytest.raises(InvalidLink, match="key no longer in use"):
        check(made_before, keys=(KEY,))
    with pytest.raises(InvalidLink, match="no key is configured"):
        check(made_after, keys=())


def test_keys_are_read_newest_first_and_a_short_one_is_refused_by_position_only() -> None:
    assert parse_keys(f" {KEY.decode()} ,{OLD.decode()}") == (KEY, OLD)
    with pytest.raises(ValueError, match="key 2 of 2 shorter than 32 characters") as refused:
        parse_keys(f"{KEY.decode()},hunter2")
    assert "hunter2" not in str(refused.value)


def test_the_setting_never_shows_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGIA_PREFERENCE_LINK_KEY", "hunter2-too-short")
    with pytest.raises(ValidationError) as refused:
        PreferenceLinkSettings()
    assert "REGIA_PREFERENCE_LINK_KEY: key 1 of 1 shorter than 32" in str(refused.value)
    assert "hunter2" not in str(refused.value)
    monkeypatch.setenv("REGIA_PREFERENCE_LINK_KEY", f"{KEY.decode()}, {OLD.decode()}")
    settings = PreferenceLinkSettings()
    assert settings.preference_link_keys == (KEY, OLD)
    assert KEY.decode() not in repr(settings) and KEY.decode() not in str(settings.model_dump())
    monkeypatch.delenv("REGIA_PREFERENCE_LINK_KEY")
    assert PreferenceLinkSettings().preference_link_keys == ()
