from datetime import time, timedelta
from email.utils import parseaddr
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.fernet import Fernet
from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError, ValidationError

from regia_shared.contracts.catalogue import CONSOLE, NOTIFIER
from regia_shared.settings import BudgetWindowSettings, PreferenceLinkSettings, ServiceSettings

from .domain.addresses import mailbox
from .domain.errors import UnusableAddress
from .domain.grouping import GroupingPolicy
from .domain.preference_links import PreferenceLinks
from .domain.retry import SEND_SHARE_OF_LEASE
from .domain.webhook_targets import Network, parse_networks

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


def _refused(message: str) -> ValidationError:
    """A settings refusal that never shows the settings given. A ValueError raised in a
    validator would not do: pydantic prints its input beside the message, which for a
    model validator is every setting read, the SMTP password and the keys among them. A
    ValidationError raised in a validator is merged into the settings' error as it is."""
    return ValidationError.from_exception_data(
        "NotifierSettings", [{"type": PydanticCustomError("value_error", message), "loc": (), "input": "**********"}]
    )


class NotifierSettings(BudgetWindowSettings, PreferenceLinkSettings):
    # window_first_year (REGIA_FUNDING_WINDOW_FIRST_YEAR), shared with funding: no status
    # change or funding drop of a year before the budget window is an alert.
    # preference_link_key (REGIA_PREFERENCE_LINK_KEY), shared with partners: it signs the
    # unsubscribe and preferences links of every e-mail to a contact.
    http_port: int = Field(NOTIFIER.default_port, validation_alias=_env("REGIA_NOTIFIER_PORT"))

    smtp_host: str = Field(
        "127.0.0.1", validation_alias=_env("REGIA_SMTP_HOST"), json_schema_extra={"deployment": "required"}
    )
    smtp_port: int = Field(1025, ge=1, le=65535, validation_alias=_env("REGIA_SMTP_PORT"))
    smtp_from: str = Field(
        "Regia <regia@localhost>",
        validation_alias=_env("REGIA_SMTP_FROM"),
        json_schema_extra={"deployment": "required"},
    )
    smtp_username: str | None = Field(None, validation_alias=_env("REGIA_SMTP_USERNAME"))
    smtp_password: SecretStr | None = Field(None, validation_alias=_env("REGIA_SMTP_PASSWORD"))
    smtp_starttls: bool | None = Field(
        None,
        validation_alias=_env("REGIA_SMTP_STARTTLS"),
        description="Upgrade to TLS (STARTTLS) before anything else; unset: on when "
        "REGIA_SMTP_USERNAME is set, off otherwise",
    )
    smtp_plaintext_auth: bool = Field(
        False,
        validation_alias=_env("REGIA_SMTP_PLAINTEXT_AUTH"),
        description="Acknowledges that REGIA_SMTP_STARTTLS=false with credentials sends the "
        "password in clear; without it that combination is refused at start-up",
    )
    smtp_timeout_s: float = Field(30.0, gt=0, validation_alias=_env("REGIA_SMTP_TIMEOUT_S"))
    smtp_idle_s: float = Field(
        30.0,
        gt=0,
        validation_alias=_env("REGIA_SMTP_IDLE_S"),
        description="How long an SMTP session may stay open unused before it is closed",
    )

    secrets_key: SecretStr | None = Field(
        None,
        validation_alias=_env("REGIA_NOTIFIER_SECRETS_KEY"),
        json_schema_extra={"deployment": "required"},
        description="Fernet key encrypting webhook signing secrets at rest, or while it is "
        "replaced several, comma-separated, newest first: the first seals, any opens, and at "
        "start-up every secret is rewrapped with the first; without it the webhook API "
        "answers 503 and webhook deliveries fail",
    )
    webhook_timeout_s: float = Field(
        10.0,
        gt=0,
        validation_alias=_env("REGIA_NOTIFIER_WEBHOOK_TIMEOUT_S"),
        description="Time limit of a whole webhook call (connecting, sending, the reply's "
        "headers); a call over it is a failed attempt, retried with back-off",
    )

    max_attempts: int = Field(6, ge=1, validation_alias=_env("REGIA_NOTIFIER_MAX_ATTEMPTS"))
    backoff_base_s: float = Field(1.0, gt=0, validation_alias=_env("REGIA_NOTIFIER_BACKOFF_BASE_S"))
    backoff_max_s: float = Field(300.0, gt=0, validation_alias=_env("REGIA_NOTIFIER_BACKOFF_MAX_S"))
    poll_interval_s: float = Field(
        5.0,
        gt=0,
        validation_alias=_env("REGIA_NOTIFIER_POLL_INTERVAL_S"),
        description="Fallback when a LISTEN/NOTIFY wake-up is missed (e.g. a reconnect)",
    )
    concurrency: int = Field(
        32,
        ge=1,
        validation_alias=_env("REGIA_NOTIFIER_CONCURRENCY"),
        description="Deliveries one replica claims and sends at once (and SMTP sessions it keeps open)",
    )
    lease_s: float = Field(
        120.0,
        gt=0,
        validation_alias=_env("REGIA_NOTIFIER_LEASE_S"),
        description="How long a claimed delivery stays claimed; after it, the attempt is "
        "recorded as abandoned (the replica died) and the delivery is retried",
    )

    webhook_allowed_networks: str = Field(
        "",
        validation_alias=_env("REGIA_NOTIFIER_WEBHOOK_ALLOWED_NETWORKS"),
        description="Comma-separated private networks (CIDR) webhooks may call, over http or https; "
        "every other target must be https to public addresses (domain/webhook_targets.py)",
    )

    # Webhook endpoints, one partner's each: what a slow or unruly one may take.
    webhook_concurrency: int = Field(
        4,
        ge=1,
        validation_alias=_env("REGIA_NOTIFIER_WEBHOOK_CONCURRENCY"),
        description="Calls under way at once to any one webhook endpoint: a slow endpoint "
        "holds at most that many of the sending slots, the rest keep going to the others",
    )

    digest_at: time = Field(
        time(8, 0),
        validation_alias=_env("REGIA_NOTIFIER_DIGEST_AT"),
        description="Local time (HH:MM) at which daily digests go out",
    )
    timezone: str = Field(
        "Europe/Rome",
        validation_alias=_env("REGIA_NOTIFIER_TIMEZONE"),
        description="The time zone of digest times and days (IANA name)",
    )
    group_wait_s: float = Field(
        30.0,
        ge=0,
        validation_alias=_env("REGIA_NOTIFIER_GROUP_WAIT_S"),
        description="The grouping window: a person's alerts go out as one message once none came for "
        "this many seconds (0: at once), as Alertmanager's group_wait",
    )
    group_longest_s: float = Field(
        600.0,
        gt=0,
        validation_alias=_env("REGIA_NOTIFIER_GROUP_LONGEST_S"),
        description="The longest an alert waits for its message while alerts of other causes keep coming",
    )
    weekly_digest_day: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = Field(
        "monday",
        validation_alias=_env("REGIA_NOTIFIER_WEEKLY_DIGEST_DAY"),
        description="The day weekly digests go out, at the digest time",
    )
    digest_check_s: float = Field(
        60.0,
        gt=0,
        validation_alias=_env("REGIA_NOTIFIER_DIGEST_CHECK_S"),
        description="How often due digests are looked for",
    )

    console_url: str = Field(
        CONSOLE.default_url,
        validation_alias=_env(CONSOLE.url_var),
        json_schema_extra={"deployment": "required"},
        description="The web console's address as the people alerted reach it (http or https): "
        "every alert about an objective links to <this>/objectives/<its id>",
    )

    @property
    def grouping(self) -> GroupingPolicy:
        return GroupingPolicy(timedelta(seconds=self.group_wait_s), timedelta(seconds=self.group_longest_s))

    @property
    def weekday(self) -> int:
        return _WEEKDAYS.index(self.weekly_digest_day)

    @model_validator(mode="after")
    def _window_within_the_longest_wait(self) -> "NotifierSettings":
        if self.group_longest_s < self.group_wait_s:
            raise _refused(
                f"REGIA_NOTIFIER_GROUP_LONGEST_S ({self.group_longest_s:g}) is shorter than the grouping window"
                f" REGIA_NOTIFIER_GROUP_WAIT_S ({self.group_wait_s:g})"
            )
        return self

    @field_validator("console_url")
    @classmethod
    def _an_http_url(cls, value: str) -> str:
        url = value.strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"{CONSOLE.url_var} must be the console's http(s) address, e.g. https://regia.example.org")
        return url.rstrip("/")

    def preference_links(self) -> PreferenceLinks | None:
        """What signs the links of e-mails to the console's unsubscribe and preferences
        pages; None when REGIA_PREFERENCE_LINK_KEY is not set (e-mails then carry none)."""
        keys = self.preference_link_keys
        return PreferenceLinks(keys[0], self.console_url) if keys else None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @field_validator("timezone")
    @classmethod
    def _a_known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"REGIA_NOTIFIER_TIMEZONE: unknown time zone {value!r} (an IANA name such as Europe/Rome)"
            ) from None
        return value

    @property
    def starttls(self) -> bool:
        """STARTTLS as configured, or by default whenever there is a password to protect."""
        return self.smtp_starttls if self.smtp_starttls is not None else self.smtp_username is not None

    @field_validator("smtp_from")
    @classmethod
    def _an_address(cls, value: str) -> str:
        address = parseaddr(value)[1]
        if "@" not in address:
            raise ValueError("REGIA_SMTP_FROM must be an address, e.g. 'Regia <regia@example.org>'")
        if not address.rpartition("@")[0].isascii():
            # Every message would then need SMTPUTF8, and a server without it would take none.
            raise ValueError(
                "REGIA_SMTP_FROM: the part before the @ must be ASCII (the domain may be internationalised)"
            )
        try:
            mailbox(address)
        except UnusableAddress as exc:
            raise ValueError(f"REGIA_SMTP_FROM: {exc}") from None
        return value

    @model_validator(mode="after")
    def _no_password_in_clear_unasked(self) -> "NotifierSettings":
        if self.smtp_username is not None and self.smtp_starttls is False and not self.smtp_plaintext_auth:
            message = (
                "REGIA_SMTP_STARTTLS=false with REGIA_SMTP_USERNAME set would send the SMTP "
                "password in clear: leave REGIA_SMTP_STARTTLS unset (on with credentials), or "
                "set REGIA_SMTP_PLAINTEXT_AUTH=true to accept that knowingly"
            )
            raise _refused(message)
        return self

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _networks_are_networks(cls, value: str) -> str:
        try:
            parse_networks(value)
        except ValueError as exc:
            raise ValueError(f"REGIA_NOTIFIER_WEBHOOK_ALLOWED_NETWORKS: {exc}") from None
        return value

    @property
    def webhook_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.webhook_allowed_networks)

    @field_validator("secrets_key")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        keys = [k.strip() for k in value.get_secret_value().split(",")]
        malformed = []
        for position, key in enumerate(keys, start=1):
            try:
                Fernet(key)
            except (ValueError, TypeError):
                malformed.append(str(position))
        if malformed:
            # Never echo the value: it is a secret even when malformed (see _refused).
            which = (
                f"key {malformed[0]} of {len(keys)} is"
                if len(malformed) == 1
                else f"keys {', '.join(malformed)} of {len(keys)} are"
            )
            message = (
                f"REGIA_NOTIFIER_SECRETS_KEY: {which} not a Fernet key "
                "(32 url-safe base64-encoded bytes); give one key, or several "
                "separated by commas, newest first"
            )
            raise _refused(message)
        return SecretStr(",".join(keys))

    @model_validator(mode="after")
    def _lease_outlasts_a_send(self) -> "NotifierSettings":
        # A lease shorter than a send would let another replica re-send a message that
        # is still going out.
        if self.lease_s <= self.smtp_timeout_s:
            raise _refused("REGIA_NOTIFIER_LEASE_S must exceed REGIA_SMTP_TIMEOUT_S")
        if self.lease_s <= self.webhook_timeout_s:
            raise _refused("REGIA_NOTIFIER_LEASE_S must exceed REGIA_NOTIFIER_WEBHOOK_TIMEOUT_S")
        return self

    @model_validator(mode="after")
    def _lease_outlasts_a_webhook_call_with_margin(self) -> "NotifierSettings":
        # A webhook call must be over while its claim still holds, with time left to record
        # its outcome: otherwise the delivery is claimed again and sent a second time while
        # the first call is open (the dispatcher cuts a call there anyway).
        if self.webhook_timeout_s > self.lease_s * SEND_SHARE_OF_LEASE:
            raise _refused(
                "REGIA_NOTIFIER_WEBHOOK_TIMEOUT_S must be at most three quarters of "
                "REGIA_NOTIFIER_LEASE_S (the rest is the margin to record the outcome "
                "before the claim runs out)"
            )
        return self


def notifier_settings(settings: ServiceSettings) -> NotifierSettings:
    """A runtime's settings, as the notifier's: app.create_app builds the notifier's runtime
    with NotifierSettings, so every job and route of the notifier sees them."""
    assert isinstance(settings, NotifierSettings)
    return settings
