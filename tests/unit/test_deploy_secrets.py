"""`regia deploy-secrets`: every secret compose needs, made at random, written for its owner
only, never over an existing file; the admin token printed once and stored only as a hash."""

import hashlib
import stat

from cryptography.fernet import Fernet
from typer.testing import CliRunner

from regia.cli import app
from regia_shared.contracts.preference_links import parse_keys
from regia_shared.messaging.signing import EventKeys

NEEDED = {
    "POSTGRES_PASSWORD",
    "REGIA_FUNDING_DB_PASSWORD",
    "REGIA_OBJECTIVES_DB_PASSWORD",
    "REGIA_PARTNERS_DB_PASSWORD",
    "REGIA_NOTIFIER_DB_PASSWORD",
    "REGIA_ADMIN_TOKEN_SHA256",
    "REGIA_NOTIFIER_SECRETS_KEY",
    "REGIA_PREFERENCE_LINK_KEY",
    "GRAFANA_ADMIN_PASSWORD",
    # People's sessions (regia_shared.http.identity) and their TOTP secrets.
    "REGIA_SESSION_SIGNING_KEYS",
    "REGIA_SESSION_PUBLIC_KEYS",
    "REGIA_ACCOUNT_SECRETS_KEY",
    # The SCRAM passwords of the Kafka users (regia_shared.contracts.kafka_access).
    "KAFKA_PASSWORD_REGIA_ADMIN",
    "KAFKA_PASSWORD_REGIA_TOPICS",
    "KAFKA_PASSWORD_REGIA_FUNDING",
    "KAFKA_PASSWORD_REGIA_OBJECTIVES",
    "KAFKA_PASSWORD_REGIA_PARTNERS",
    "KAFKA_PASSWORD_REGIA_NOTIFIER",
    "KAFKA_PASSWORD_REGIA_CONSOLE",
    "REGIA_FUNDING_EVENT_KEYS",
    "REGIA_OBJECTIVES_EVENT_KEYS",
    "REGIA_PARTNERS_EVENT_KEYS",
    "REGIA_NOTIFIER_EVENT_KEYS",
}


def read_env(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_writes_every_secret_for_its_owner_only(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / ".env"
    result = CliRunner().invoke(app, ["deploy-secrets", "--out", str(out)])
    assert result.exit_code == 0, result.output
    values = read_env(out.read_text())
    assert set(values) == NEEDED
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    token = result.stdout.rsplit(": ", 1)[1].strip()
    assert token not in out.read_text()  # only its hash is kept
    assert values["REGIA_ADMIN_TOKEN_SHA256"] == hashlib.sha256(token.encode()).hexdigest()
    Fernet(values["REGIA_NOTIFIER_SECRETS_KEY"])  # a usable key
    assert parse_keys(values["REGIA_PREFERENCE_LINK_KEY"])  # long enough to sign links
    for service in ("funding", "objectives", "partners", "notifier"):  # each its own event key, and only that
        assert EventKeys.parse(values[f"REGIA_{service.upper()}_EVENT_KEYS"]).services() == {service}
    # Passwords go into DSNs as they are: nothing that would need URL-encoding.
    assert all(v.replace("-", "").replace("_", "").isalnum() for k, v in values.items() if "PASSWORD" in k)


def test_never_overwrites_the_secrets_a_database_was_made_with(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / ".env"
    out.write_text("POSTGRES_PASSWORD=the-one-in-use\n")
    result = CliRunner().invoke(app, ["deploy-secrets", "--out", str(out)])
    assert result.exit_code == 1
    assert "exists" in result.output
    assert out.read_text() == "POSTGRES_PASSWORD=the-one-in-use\n"


def test_a_folder_that_does_not_exist_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(app, ["deploy-secrets", "--out", str(tmp_path / "missing" / ".env")])
    assert result.exit_code == 1
    assert "cannot write" in result.output and "No such file or directory" in result.output
    assert not (tmp_path / "missing").exists()
