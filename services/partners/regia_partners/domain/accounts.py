"""People's accounts: what an account must hold for its role, when failed logins lock it,
and when a session is over. Pure: no clock of its own, no I/O."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from regia_shared.http.identity import Role

from .commands import Email, Id, Name
from .errors import PartnersError

AccountId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9._-]*$")]
MIN_PASSWORD = 12  # NIST SP 800-63B asks at least 8; passphrases are what we ask people for
MAX_PASSWORD = 200  # argon2 takes any length; a bound keeps a request's cost bounded


class AccountRefused(PartnersError):
    status, code = 422, "invalid_account"


class AccountNotFound(PartnersError):
    status, code = 404, "account_not_found"


class LoginRefused(PartnersError):
    """Wrong login or password, told the same way whichever it was."""

    status, code = 401, "invalid_credentials"


class TotpRequired(PartnersError):
    status, code = 401, "totp_required"


class LoginLocked(PartnersError):
    status, code = 429, "login_locked"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message, None)
        self.retry_after_s = retry_after_s


class SessionRefused(PartnersError):
    status, code = 401, "session_ended"


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class NewAccount(_Command):
    """An administrator's creation of a person's account."""

    account_id: AccountId
    name: Name
    email: Email | None = None
    role: Role
    institution_id: Id | None = Field(None, description="Required for an institution officer: their institution")
    partner_id: Id | None = Field(
        None, description="Required for a project lead: the partner that leads their objectives"
    )
    contact_id: Id | None = Field(None, description="The contact whose alert preferences are theirs")
    password: SecretStr | None = Field(
        None, description=f"An initial password, {MIN_PASSWORD} characters or more; or log in with OIDC only"
    )
    oidc_subject: str | None = Field(
        None, max_length=255, description="The person's subject (`sub`) at the configured OpenID Connect provider"
    )

    @model_validator(mode="after")
    def _fits_role(self) -> "NewAccount":
        fits_role(self.role, self.institution_id, self.partner_id)
        if self.password is None and self.oidc_subject is None:
            raise ValueError("give a password, an oidc_subject, or both: otherwise no one can log in")
        if self.password is not None:
            check_password(self.password.get_secret_value(), self.account_id)
        return self


class AccountChange(_Command):
    """An administrator's change of someone's role or what it is scoped to (it ends their sessions)."""

    name: Name | None = None
    role: Role | None = None
    institution_id: Id | None = None
    partner_id: Id | None = None
    contact_id: Id | None = None
    disabled: bool | None = Field(None, description="true: nobody can log in with it any more, its sessions end")


class PasswordChange(_Command):
    current_password: SecretStr
    new_password: SecretStr


class Credentials(_Command):
    login: Annotated[str, Field(min_length=1, max_length=100)]
    password: Annotated[SecretStr, Field(min_length=1, max_length=MAX_PASSWORD)]
    totp: Annotated[str | None, Field(None, pattern=r"^[0-9]{6}$", description="The 6-digit code, once enrolled")]


def fits_role(role: Role, institution_id: str | None, partner_id: str | None) -> None:
    if role is Role.INSTITUTION_OFFICER and institution_id is None:
        raise ValueError("an institution officer needs institution_id: the institution whose lines they see")
    if role is Role.PROJECT_LEAD and partner_id is None:
        raise ValueError("a project lead needs partner_id: the partner that leads their objectives")


def check_password(password: str, account_id: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs {MIN_PASSWORD} characters or more (a few words make a good one)")
    if len(password) > MAX_PASSWORD:
        raise ValueError(f"a password has at most {MAX_PASSWORD} characters")
    if account_id.lower() in password.lower():
        raise ValueError("a password may not contain the login")


@dataclass(frozen=True)
class LoginPolicy:
    """REGIA_LOGIN_MAX_FAILURES failed logins in a row lock an account for
    REGIA_LOGIN_LOCKOUT_S, doubling with each further failure while locked out (capped at a
    day): a guesser gets a handful of tries an hour, the person a clear message and a wait."""

    max_failures: int
    lockout_s: int

    def locked_until(self, failures: int, now: datetime) -> datetime | None:
        """When an account that has just failed `failures` times in a row unlocks."""
        if failures < self.max_failures:
            return None
        doublings = min(failures - self.max_failures, 10)
        return now + timedelta(seconds=min(self.lockout_s * 2**doublings, 86_400))


@dataclass(frozen=True)
class SessionPolicy:
    """A session ends after REGIA_SESSION_IDLE_S without a refresh, and after
    REGIA_SESSION_MAX_AGE_S whatever happens: a forgotten browser does not stay logged in."""

    idle_s: int
    max_age_s: int

    def open_until(self, created_at: datetime, refreshed_at: datetime) -> datetime:
        return min(refreshed_at + timedelta(seconds=self.idle_s), created_at + timedelta(seconds=self.max_age_s))
