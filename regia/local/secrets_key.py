"""The secret keys the services need on the one-machine default, made once per data dir.

- The notifier's key for webhook signing secrets: it stores each webhook's signing secret
  encrypted with this Fernet key, so the database never holds a secret in clear.
- The key of the unsubscribe and preferences links of e-mails: the notifier signs them
  with it, the partners service verifies them (regia_shared.contracts.preference_links).
- The Ed25519 seed that signs people's session tokens (partners) and its public key (every
  service and the console verify with it), and the Fernet key of people's TOTP secrets.
- The keys signing each service's events (regia_shared.messaging.signing), one per
  service, kept together; each service is given only its own and those it verifies with.

In production each key comes from the environment (a secret store); for `regia up` it is
made once and kept beside the data it protects, readable by its owner only, so webhook
secrets and the links already mailed survive a restart. A key set in the environment wins.
"""

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet

from regia_shared.http.identity import new_signing_key, public_keys_of
from regia_shared.messaging import signing

from .embedded.private import private_dir, private_file

VARIABLE = "REGIA_NOTIFIER_SECRETS_KEY"
LINK_VARIABLE = "REGIA_PREFERENCE_LINK_KEY"
EVENT_VARIABLE = signing.VARIABLE


def notifier_secrets_key(data_dir: Path) -> str:
    return _kept(data_dir, VARIABLE, "notifier-secrets.key", lambda: Fernet.generate_key().decode())


def preference_link_key(data_dir: Path) -> str:
    return _kept(data_dir, LINK_VARIABLE, "preference-link.key", lambda: secrets.token_urlsafe(32))


SESSION_SIGNING_VARIABLE = "REGIA_SESSION_SIGNING_KEYS"
SESSION_PUBLIC_VARIABLE = "REGIA_SESSION_PUBLIC_KEYS"
ACCOUNT_VARIABLE = "REGIA_ACCOUNT_SECRETS_KEY"


def session_keys(data_dir: Path) -> dict[str, str]:
    """The variables of people's sessions: the seed, its public key, the TOTP secrets' key."""
    seed = _kept(data_dir, SESSION_SIGNING_VARIABLE, "session-signing.key", lambda: new_signing_key("local1")[0])
    return {
        SESSION_SIGNING_VARIABLE: seed,
        SESSION_PUBLIC_VARIABLE: os.environ.get(SESSION_PUBLIC_VARIABLE, "").strip() or public_keys_of(seed),
        ACCOUNT_VARIABLE: _kept(
            data_dir, ACCOUNT_VARIABLE, "account-secrets.key", lambda: Fernet.generate_key().decode()
        ),
    }


def event_signing_keys(data_dir: Path) -> signing.EventKeys:
    """Every service's event signing keys (REGIA_EVENT_SIGNING_KEYS if set, else this data
    dir's own, made on the first `regia up`)."""
    kept = _kept(data_dir, EVENT_VARIABLE, "event-signing.keys", lambda: signing.generate("local").text())
    return signing.EventKeys.parse(kept)


def _kept(data_dir: Path, variable: str, name: str, make: Callable[[], str]) -> str:
    given = os.environ.get(variable, "").strip()
    if given:
        return given
    path = data_dir / name
    if not path.exists():
        private_dir(data_dir)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(make())
    return private_file(path).read_text().strip()  # tightened if an earlier run left it loose
