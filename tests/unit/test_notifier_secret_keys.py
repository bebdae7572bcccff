"""REGIA_NOTIFIER_SECRETS_KEY as a list of Fernet keys, newest first: the first seals,
any opens, rewrapping moves a secret to the first; and a malformed list is refused by
position without its value ever being echoed."""

import pytest
from cryptography.fernet import Fernet, InvalidToken
from pydantic import ValidationError

from regia_notifier.adapters.webhooks import SecretBox
from regia_notifier.config import NotifierSettings

A, B, C = (Fernet.generate_key().decode() for _ in range(3))


def test_the_first_key_seals_and_any_key_opens() -> None:
    under_a = SecretBox(A).seal("s3cret-a")
    box = SecretBox(f"{B},{A}")
    sealed = box.seal("s3cret-b")
    assert box.key_count == 2
    assert Fernet(B).decrypt(sealed.encode()) == b"s3cret-b"  # sealed with the newest only
    with pytest.raises(InvalidToken):
        Fernet(A).decrypt(sealed.encode())
    assert box.open(under_a) == "s3cret-a" and box.open(sealed) == "s3cret-b"
    assert SecretBox(f" {B} , {A} ").open(under_a) == "s3cret-a"  # spaces around commas


def test_rewrap_moves_a_secret_to_the_newest_key_once() -> None:
    under_a = SecretBox(A).seal("s3cret")
    box = SecretBox(f"{B},{A}")
    rewrapped = box.rewrap(under_a)
    assert rewrapped is not None and rewrapped != under_a
    assert SecretBox(B).open(rewrapped) == "s3cret"  # the old key can now be dropped
    assert box.rewrap(rewrapped) is None  # already under the newest: nothing to rewrite
    assert box.rewrap(box.seal("other")) is None


def test_a_secret_no_key_opens_is_an_error_not_a_leak() -> None:
    under_c = SecretBox(C).seal("s3cret")
    box = SecretBox(f"{B},{A}")
    for use in (box.open, box.rewrap):
        with pytest.raises(ValueError) as caught:
            use(under_c)
        assert "s3cret" not in str(caught.value) and under_c not in str(caught.value)


def test_settings_accept_a_list_of_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGIA_NOTIFIER_SECRETS_KEY", f" {B} ,{A}")
    key = NotifierSettings().secrets_key
    assert key is not None and key.get_secret_value() == f"{B},{A}"
    assert A not in repr(NotifierSettings())


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("not-a-key-VERYSECRET", "key 1 of 1 is"),
        (f"{B},VERYSECRET-{A[:10]}", "key 2 of 2 is"),
        (f"VERYSECRET,{B},", "keys 1, 3 of 3 are"),
    ],
    ids=["one-malformed", "second-of-two", "first-and-third-of-three"],
)  # the keys are random: fixed ids keep
# the collected names the same in every pytest-xdist worker
def test_a_malformed_key_is_named_by_position_never_echoed(
    monkeypatch: pytest.MonkeyPatch, value: str, named: str
) -> None:
    monkeypatch.setenv("REGIA_NOTIFIER_SECRETS_KEY", value)
    with pytest.raises(ValidationError) as caught:
        NotifierSettings()
    shown = str(caught.value) + repr(caught.value.errors()) + caught.value.json()
    assert f"REGIA_NOTIFIER_SECRETS_KEY: {named} not a Fernet key" in shown
    assert "VERYSECRET" not in shown and A[:10] not in shown and B not in shown


@pytest.mark.parametrize(
    "settings",
    [
        {"REGIA_NOTIFIER_LEASE_S": "5", "REGIA_SMTP_TIMEOUT_S": "10"},
        {"REGIA_NOTIFIER_LEASE_S": "8", "REGIA_NOTIFIER_WEBHOOK_TIMEOUT_S": "7"},
        {"REGIA_SMTP_USERNAME": "regia", "REGIA_SMTP_STARTTLS": "false"},
    ],
)
def test_a_refused_combination_of_settings_never_echoes_the_secrets(settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A check across settings sees every setting given: its error must show none of them
    (pydantic prints a ValueError's input, here the SMTP password and the key in clear)."""
    for name in list(__import__("os").environ):
        if name.startswith("REGIA_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("REGIA_SMTP_PASSWORD", "hunter2-smtp-password")
    monkeypatch.setenv("REGIA_NOTIFIER_SECRETS_KEY", A)
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as refused:
        NotifierSettings()
    # str() cuts a long input short, but errors() and json() (what a structured log of the
    # failure would hold) carry it whole.
    shown = str(refused.value) + refused.value.json() + repr(refused.value.errors())
    assert "REGIA_" in shown  # the message names the settings to change
    assert "hunter2" not in shown and A not in shown and A[:10] not in shown
