"""Where things listen on one machine: the four services and the embedded infrastructure,
with the environment variables that move them.

Every port is read from the environment with a default, so two `regia up` (or a test and
a developer's own `regia up`) can run side by side on different ports.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass


class SettingError(ValueError):
    """An environment variable holds something unusable; the message names it."""


@dataclass(frozen=True)
class Service:
    name: str
    default_port: int

    @property
    def port_var(self) -> str:
        return f"REGIA_{self.name.upper()}_PORT"

    @property
    def module(self) -> str:
        return f"regia_{self.name}"

    def port(self, env: Mapping[str, str] = os.environ) -> int:
        return env_port(self.port_var, self.default_port, env)


SERVICES = (
    Service("funding", 8101),
    Service("objectives", 8102),
    Service("partners", 8103),
    Service("notifier", 8104),
)

# The embedded infrastructure avoids the usual ports on purpose: a system PostgreSQL often
# holds 5432, and a developer's own Kafka 9092.
EMBEDDED_PG_PORT = ("REGIA_EMBEDDED_PG_PORT", 55432)
EMBEDDED_KAFKA_PORT = ("REGIA_EMBEDDED_KAFKA_PORT", 19092)
EMBEDDED_SMTP_PORT = ("REGIA_EMBEDDED_SMTP_PORT", 1025)

DEFAULT_FUNDING_URL = "http://127.0.0.1:8101"


def env_port(var: str, default: int, env: Mapping[str, str] = os.environ) -> int:
    raw = env.get(var, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SettingError(f"{var}={raw!r} is not a TCP port (1-65535)")
    return int(raw)


def local_url(port: int, env: Mapping[str, str] = os.environ) -> str:
    """The URL a service on this machine answers at (a wildcard bind is reached on loopback)."""
    host = env.get("REGIA_HTTP_HOST", "").strip() or "127.0.0.1"
    if host in {"0.0.0.0", "::", "[::]"}:
        host = "127.0.0.1"
    return f"http://{host}:{port}"
