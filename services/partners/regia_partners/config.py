from cryptography.fernet import Fernet, MultiFernet
from pydantic import AliasChoices, Field, SecretStr, field_validator

from regia_shared.contracts.catalogue import PARTNERS
from regia_shared.http.identity import parse_keys
from regia_shared.settings import PreferenceLinkSettings


class PartnersSettings(PreferenceLinkSettings):
    # preference_link_key (REGIA_PREFERENCE_LINK_KEY), shared with the notifier, which
    # signs the links of e-mails that this service verifies before a contact's own change.
    http_port: int = Field(PARTNERS.default_port, validation_alias=AliasChoices("REGIA_PARTNERS_PORT"))

    # People's accounts and sessions (domain/accounts.py, service_layer/accounts.py).
    session_signing_keys: SecretStr | None = Field(
        None,
        description="Ed25519 seeds that sign people's session tokens, `<key_id>:<base64url>` comma-separated, "
        "newest first (the first signs); every service verifies with their public keys, REGIA_SESSION_PUBLIC_KEYS. "
        "Unset: nobody can log in",
        json_schema_extra={"deployment": "required"},
    )
    account_secrets_key: SecretStr | None = Field(
        None,
        description="Fernet key(s), comma-separated, newest first, encrypting people's TOTP secrets at rest. "
        "Unset: TOTP cannot be enrolled",
        json_schema_extra={"deployment": "required"},
    )
    session_token_ttl_s: int = Field(
        300, ge=30, le=3600, description="Seconds a session token is good for; a client refreshes it before then"
    )
    session_idle_s: int = Field(
        7200, ge=60, description="A session not refreshed for this many seconds is over (log in again)"
    )
    session_max_age_s: int = Field(
        43_200, ge=300, description="A session is over this many seconds after the login, whatever happens"
    )
    login_max_failures: int = Field(5, ge=1, le=100, description="Failed logins in a row that lock an account")
    login_lockout_s: int = Field(
        900, ge=1, le=86_400, description="How long the first lock lasts; it doubles with each further failure"
    )
    # argon2id's cost (argon2-cffi's defaults: RFC 9106's second recommended option). Lower
    # only where nothing real is protected: the test suite hashes hundreds of passwords.
    argon2_time_cost: int = Field(3, ge=1, le=20, description="argon2id passes over memory for each password hash")
    argon2_memory_kib: int = Field(
        65_536, ge=8, le=4_194_304, description="argon2id memory per password hash, in KiB (64 MiB by default)"
    )
    argon2_parallelism: int = Field(4, ge=1, le=64, description="argon2id lanes per password hash")
    oidc_issuer: str | None = Field(
        None,
        description="The OpenID Connect provider's issuer URL (e.g. the region's identity provider); "
        "unset: people log in with passwords only",
    )
    oidc_client_id: str | None = Field(None, description="Regia's client id at the OpenID Connect provider")
    oidc_jwks_url: str | None = Field(
        None, description="Where the provider publishes its signing keys; unset: read from its discovery document"
    )

    @field_validator("session_signing_keys")
    @classmethod
    def _signing_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_keys(value.get_secret_value(), "REGIA_SESSION_SIGNING_KEYS")
        return value

    @field_validator("account_secrets_key")
    @classmethod
    def _fernet(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                MultiFernet([Fernet(k.strip()) for k in value.get_secret_value().split(",") if k.strip()])
            except ValueError:
                raise ValueError("REGIA_ACCOUNT_SECRETS_KEY: not a Fernet key (or comma-separated keys)") from None
        return value

    def account_fernet(self) -> MultiFernet | None:
        key = self.account_secrets_key
        if key is None:
            return None
        return MultiFernet([Fernet(k.strip()) for k in key.get_secret_value().split(",") if k.strip()])
