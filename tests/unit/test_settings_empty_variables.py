"""An empty environment variable counts as unset: compose's `${REGIA_SMTP_PASSWORD:-}` is ""
when the operator set nothing, and that must mean the default (no SMTP login), not an
empty password or a value that fails to parse."""

from regia_notifier.config import NotifierSettings
from regia_shared.settings import ServiceSettings


def test_empty_smtp_credentials_mean_no_login(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIA_SMTP_USERNAME", "")
    monkeypatch.setenv("REGIA_SMTP_PASSWORD", "")
    settings = NotifierSettings()
    assert settings.smtp_username is None and settings.smtp_password is None


def test_an_empty_number_takes_the_default(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIA_KAFKA_PARTITIONS", "")
    assert ServiceSettings().kafka_partitions == ServiceSettings.model_fields["kafka_partitions"].default
