"""The console's settings, from the environment like every Regia process. It holds no
credential of its own to the services: it calls them with each logged-in person's token."""

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
    # The services' idle keep-alive too (ServiceSettings.http_keep_alive_s, and why).
    http_keep_alive_s: float = Field(75.0, gt=0, le=600)
    funding_url: str = FUNDING.default_url
    objectives_url: str = OBJECTIVES.default_url
    partners_url: str = PARTNERS.default_url
    notifier_url: str = NOTIFIER.default_url
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    console_events_kept: int = Field(200, ge=1, le=10_000)
    console_session_hours: float = Field(
        12.0, gt=0, description="The console forgets a session after this long (partners may end it sooner)"
    )
    # Where people reach the console (the notifier's links use it too): the OpenID Connect
    # redirect URI is built on it. Unset: the request's own origin.
    console_url: str | None = None
    console_login_burst: int = Field(
        10, ge=1, le=1000, description="Failed logins a client address may make at once before the console answers 429"
    )
    event_signing_keys: SecretStr | None = Field(
        None,
        description="The event topics' owners' keys (REGIA_EVENT_SIGNING_KEYS, as the services hold them): the live "
        "page shows only events their owner signed. Unset: it shows them unverified (a warning at start)",
    )
    console_login_per_minute: float = Field(
        2.0, gt=0, le=600, description="Failed logins a client address regains per minute once its burst is spent"
    )
    # OpenID Connect (SPID/CIE through a gateway, or an organisation's provider): all three
    # set, the login page offers it. The partners service validates the ID token
    # (REGIA_OIDC_ISSUER and REGIA_OIDC_CLIENT_ID there must name the same provider and client).
    console_oidc_issuer: str | None = None
    console_oidc_client_id: str | None = None
    console_oidc_client_secret: SecretStr | None = None
    console_oidc_scopes: str = "openid"
    log_level: str = "INFO"
    log_json: bool = True

    def service_urls(self) -> dict[str, str]:
        return {
            "funding": self.funding_url.rstrip("/"),
            "objectives": self.objectives_url.rstrip("/"),
            "partners": self.partners_url.rstrip("/"),
            "notifier": self.notifier_url.rstrip("/"),
        }
