"""The console's settings, from the environment like every Regia process. It knows the
admin token only by its SHA-256; the clear token lives in a logged-in session's memory."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from regia_shared.contracts.catalogue import CONSOLE, FUNDING, NOTIFIER, OBJECTIVES, PARTNERS
from regia_shared.settings import KafkaClientSettings


class ConsoleSettings(KafkaClientSettings):
    """The console reads every event topic for its live page: against a SASL_SSL broker it
    logs in as its own user (`console` in deploy/kafka/acls.txt), which may read them and
    write nothing."""

    model_config = SettingsConfigDict(env_prefix="REGIA_", extra="ignore")

    console_port: int = Field(CONSOLE.default_port, ge=1, le=65535)
    http_host: str = "127.0.0.1"
    # The request-head deadline every service has (regia_shared.http.serving): the console is a
    # web application too, and a slowloris client would hold its connections the same way.
    http_header_timeout_s: float = Field(10.0, gt=0, le=300)
    admin_token_sha256: SecretStr | None = None
    funding_url: str = FUNDING.default_url
    objectives_url: str = OBJECTIVES.default_url
    partners_url: str = PARTNERS.default_url
    notifier_url: str = NOTIFIER.default_url
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    console_events_kept: int = Field(200, ge=1, le=10_000)
    console_session_hours: float = Field(12.0, gt=0)
    log_level: str = "INFO"
    log_json: bool = True

    def service_urls(self) -> dict[str, str]:
        return {
            "funding": self.funding_url.rstrip("/"),
            "objectives": self.objectives_url.rstrip("/"),
            "partners": self.partners_url.rstrip("/"),
            "notifier": self.notifier_url.rstrip("/"),
        }
