"""Settings every service reads from the environment (pydantic-settings).

Each service subclasses `ServiceSettings` to add its own port and knobs. Secrets are held
as `SecretStr` so they never appear in a repr or a log line; the admin credential is only
ever known to a service by its SHA-256, never in clear.

Fields marked `json_schema_extra={"deployment": "required"}` are those a deployment must
set, their defaults being only good for one machine; tests/support/deploy_settings.py checks the
deployment files (docker-compose.yml, deploy/k8s) against them.
"""

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_core import PydanticCustomError, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from regia_shared.contracts import fiscal, preference_links
from regia_shared.http import identity
from regia_shared.messaging.signing import EventKeyError, EventKeys


class KafkaClientSettings(BaseSettings):
    """How a Regia process authenticates to Kafka: every service, the one-shot topic job, the
    console and `regia up` against an external broker. PLAINTEXT is for the embedded broker
    on loopback; production brokers take SASL_SSL (SCRAM over TLS), each process as its own
    user, whose ACLs (deploy/kafka/acls.txt) say what it may read and write. Which
    combinations are complete is checked when the clients are built, before anything
    connects (regia_shared.messaging.security.KafkaSecurity.of), so a process refuses to
    start with a message naming the missing variable."""

    model_config = SettingsConfigDict(env_prefix="REGIA_", extra="ignore", env_ignore_empty=True)

    kafka_security_protocol: Literal["PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT",
        description="PLAINTEXT (the embedded broker, loopback only) or SASL_SSL (a production "
        "broker: TLS verified against REGIA_KAFKA_SSL_CAFILE, SCRAM login as REGIA_KAFKA_SASL_USERNAME)",
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256"] = Field(
        "SCRAM-SHA-512", description="SASL mechanism of the SASL_SSL login"
    )
    kafka_sasl_username: str | None = Field(
        None, min_length=1, max_length=200, description="This process's Kafka user (SASL_SSL)"
    )
    kafka_sasl_password: SecretStr | None = Field(None, description="Its SCRAM password (SASL_SSL); never logged")
    kafka_ssl_cafile: Path | None = Field(
        None,
        description="PEM file of the CA that signed the brokers' certificates (SASL_SSL); "
        "the brokers' names are verified against their certificates",
    )


class ServiceSettings(KafkaClientSettings):
    # An empty variable counts as unset: compose passes `${REGIA_SMTP_PASSWORD:-}` as ""
    # when the operator set nothing, which must mean "no login", not an empty password.
    model_config = SettingsConfigDict(env_prefix="REGIA_", extra="ignore", env_ignore_empty=True)

    database_url: SecretStr = Field(
        SecretStr("postgresql://postgres@127.0.0.1:5432/regia"),
        description="PostgreSQL DSN; each service works in its own schema of this database",
        json_schema_extra={"deployment": "required"},
    )
    db_pool_min: int = Field(1, ge=1)
    db_pool_max: int = Field(10, ge=1)
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", json_schema_extra={"deployment": "required"})
    kafka_idempotence: bool = Field(
        True,
        description="Idempotent producer: on for Apache Kafka, off for the embedded broker, "
        "which refuses InitProducerId (the outbox and inbox give exactly-once effects anyway)",
    )
    kafka_partitions: int = Field(6, ge=1, description="Partitions of topics this service creates")
    kafka_replication_factor: int = Field(
        1,
        ge=1,
        le=7,
        description="Copies of each topic it creates: 1 on one broker, 3 on a "
        "production cluster (min.insync.replicas is then 2, so acks=all survives a broker lost)",
    )
    kafka_retention_hours: int = Field(
        168,
        ge=1,
        description="How long event topics it creates keep messages: how long a "
        "consumer may stay down and still catch up from the broker (the outbox can replay older)",
    )
    kafka_dead_letter_retention_hours: int = Field(
        720,
        ge=1,
        description="How long dead-letter topics keep the messages set aside, for "
        "an operator to read them before they go",
    )
    kafka_session_timeout_ms: int = Field(10_000, ge=1000)
    kafka_fetch_max_wait_ms: int = Field(
        100,
        ge=1,
        le=10_000,
        description="How long the broker may hold a consumer's fetch when "
        "there is nothing new (see regia_shared.messaging.consumer.Polling)",
    )
    kafka_poll_timeout_ms: int = Field(
        500,
        ge=1,
        le=10_000,
        description="How long a subscriber's look for records waits when none come before it "
        "looks again; records are taken the moment they arrive (see "
        "regia_shared.messaging.consumer.Polling)",
    )
    kafka_commit_interval_ms: int = Field(
        200,
        ge=0,
        le=60_000,
        description="How often, at most, a consumer group commits its offsets while records keep "
        "coming, and how soon after they stop; what was applied since the last commit is read "
        "again after a crash and changes nothing (see regia_shared.messaging.offset_commits)",
    )
    consumer_batch_max: int = Field(
        2000,
        ge=1,
        le=10_000,
        description="The most records a consumer takes in one batch, applied in one transaction "
        "(see regia_shared.messaging.consumer.Polling): under a backlog, the larger the batch, the "
        "more of its events fall on the same lines and objectives and are written once",
    )
    consumer_max_attempts: int = Field(
        5,
        ge=1,
        le=1000,
        description="How many times in a row a consumer takes a batch that "
        "fails for a reason other than the infrastructure before it applies the batch's events "
        "one by one and dead-letters those that still fail (see regia_shared.messaging.consumer)",
    )
    # Loopback by default; a container must listen on its interface (the image sets 0.0.0.0).
    http_host: str = Field("127.0.0.1", json_schema_extra={"deployment": "required"})
    http_header_timeout_s: float = Field(
        10.0,
        gt=0,
        le=300,
        description="Seconds a client has to send a request's line and "
        "headers, from the connection (or, kept alive, the next request's first byte); then "
        "the connection is closed (regia_shared.http.serving)",
    )
    http_keep_alive_s: float = Field(
        75.0,
        gt=0,
        le=600,
        description="Seconds an idle kept-alive connection is held open. Longer than any client's "
        "or proxy's pool keeps one (httpx 5 s, aiohttp 15 s, ingress-nginx 60 s): the side that "
        "closes an idle connection must be the one that sends on it, or a request crossing the "
        "server's close fails (regia_shared.http.serving)",
    )
    admin_token_sha256: SecretStr | None = Field(
        None,
        description="SHA-256 (hex) of the administrators' bearer token",
        json_schema_extra={"deployment": "required"},
    )
    session_public_keys: str = Field(
        "",
        description="Public keys that verify people's session tokens, `<key_id>:<base64url>` comma-separated, "
        "newest first (the partners service signs them: regia_shared.http.identity); empty: no one can log in",
        json_schema_extra={"deployment": "required"},
    )
    event_signing_keys: SecretStr | None = Field(
        None,
        json_schema_extra={"deployment": "required"},
        description="Keys of the HMAC signing internal events (regia_shared.messaging.signing): "
        "`service=key_id:secret` entries (secret of at least 32 characters), comma-separated; "
        "several of one service while one is replaced, newest first (the first signs, any "
        "verifies). A service needs its own and those of the owners of the topics it consumes, "
        "and refuses to start without them",
    )
    outbox_poll_interval_s: float = Field(1.0, gt=0)
    outbox_batch_size: int = Field(2000, ge=1)
    metrics_refresh_s: float = Field(
        15.0,
        gt=0,
        description="How often gauges read from the database and the broker "
        "(consumer lag, dead letters, money, statuses) are refreshed",
    )
    gc_gen0_threshold: int = Field(
        200_000,
        ge=700,
        description="Allocations between two runs of Python's cycle collector "
        "(Python's default is 700; see regia_shared.observability.gc_tuning)",
    )
    log_level: str = "INFO"
    log_json: bool = True
    # Funding's year-end roll-over and the objectives' annual review close fiscal years;
    # both read "today" here, so one setting pins it for both (regia_shared.contracts.fiscal).
    today: date | None = Field(
        None,
        validation_alias=AliasChoices("REGIA_TODAY"),
        description="Pins the date taken as today when a fiscal year is closed (roll-over, "
        "annual review; tests and drills); unset, today's date in Europe/Rome",
    )

    @field_validator("session_public_keys")
    @classmethod
    def _session_keys(cls, value: str) -> str:
        identity.parse_keys(value, "REGIA_SESSION_PUBLIC_KEYS")
        return value

    @field_validator("event_signing_keys")
    @classmethod
    def _event_keys_readable(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                EventKeys.parse(value.get_secret_value())
            except EventKeyError as exc:
                raise _unechoed(cls.__name__, str(exc)) from None
        return value

    @property
    def event_keys(self) -> EventKeys:
        """The event signing keys this process holds (none when unset)."""
        return (
            EventKeys()
            if self.event_signing_keys is None
            else EventKeys.parse(self.event_signing_keys.get_secret_value())
        )

    def fiscal_today(self) -> date:
        """Today, for closing years: the pinned date, or the date in Rome."""
        return fiscal.today(self.today)


class BudgetWindowSettings(ServiceSettings):
    """Settings of a service that knows where the budget window starts: funding opens its
    window there, the notifier stays quiet about the years before it. One field, one
    variable, one default, whichever service reads it."""

    window_first_year: int = Field(
        default_factory=lambda: date.today().year - 1,
        ge=1990,
        le=2100,
        validation_alias=AliasChoices("REGIA_FUNDING_WINDOW_FIRST_YEAR"),
        description="First fiscal year of the budget window when the service first starts; "
        "afterwards the window only moves with the year-end roll-over (an annual review "
        "closing its first year). The notifier never alerts about a year before it",
    )


class PreferenceLinkSettings(ServiceSettings):
    """Settings of a service that signs or verifies the links in e-mails that let a person
    unsubscribe or change their preferences (regia_shared.contracts.preference_links): the
    notifier signs them, the partners service verifies them. One variable for both."""

    preference_link_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("REGIA_PREFERENCE_LINK_KEY"),
        json_schema_extra={"deployment": "required"},
        description="Key (at least 32 characters) of the HMAC signing the unsubscribe and "
        "preferences links of e-mails, or while it is replaced several, comma-separated, "
        "newest first: the first signs, any verifies. The notifier and the partners service "
        "need the same value; without it e-mails carry no such links and the partners "
        "service refuses them (503)",
    )
    preference_link_max_age_days: int = Field(
        preference_links.DEFAULT_MAX_AGE_DAYS,
        ge=1,
        le=3650,
        validation_alias=AliasChoices("REGIA_PREFERENCE_LINK_MAX_AGE_DAYS"),
        description="How many days an unsubscribe or preferences link works after its e-mail was made",
    )

    @field_validator("preference_link_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        try:
            keys = preference_links.parse_keys(value.get_secret_value())
        except ValueError as exc:
            # Never echo the value, even a malformed one: pydantic prints a ValueError's
            # input beside its message; a ValidationError raised here is shown as built.
            raise _unechoed(cls.__name__, f"REGIA_PREFERENCE_LINK_KEY: {exc}") from None
        return SecretStr(",".join(k.decode() for k in keys))

    @property
    def preference_link_keys(self) -> tuple[bytes, ...]:
        """The keys, newest first; empty when none is set."""
        key = self.preference_link_key
        return () if key is None else preference_links.parse_keys(key.get_secret_value())


def _unechoed(title: str, message: str) -> ValidationError:
    """A settings error that never echoes the value: pydantic prints a ValueError's input
    beside its message; a ValidationError raised in a validator is shown as built."""
    return ValidationError.from_exception_data(
        title, [{"type": PydanticCustomError("value_error", message), "loc": (), "input": "**********"}]
    )
