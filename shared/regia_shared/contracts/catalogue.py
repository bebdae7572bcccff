"""Where Regia listens on one machine: the four services, the console and the embedded
infrastructure, with the environment variables that move them. The one owner of these
ports and URLs: the services' settings take their default port from here, the console its
port and the services' URLs, the `regia` commands the URLs they call, and `regia up` every
port it opens.

Every port is read from the environment with a default, so two `regia up` (or a test and
a developer's own `regia up`) can run side by side on different ports.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass

LOOPBACK = "127.0.0.1"


class SettingError(ValueError):
    """An environment variable holds something unusable; the message names it."""


@dataclass(frozen=True)
class WebApp:
    """One of Regia's web applications: a service, or the console."""

    name: str
    default_port: int

    @property
    def port_var(self) -> str:
        return f"REGIA_{self.name.upper()}_PORT"

    @property
    def url_var(self) -> str:
        """What tells its clients (the console, the `regia` commands) where it answers."""
        return f"REGIA_{self.name.upper()}_URL"

    @property
    def module(self) -> str:
        """The package `python -m` runs."""
        return f"regia_{self.name}"

    @property
    def default_url(self) -> str:
        return f"http://{LOOPBACK}:{self.default_port}"

    def port(self, env: Mapping[str, str] = os.environ) -> int:
        return env_port(self.port_var, self.default_port, env)

    def url(self, env: Mapping[str, str] = os.environ) -> str:
        """Where a client calls it: its URL variable, else its default on this machine."""
        return env.get(self.url_var, "").strip() or self.default_url


FUNDING = WebApp("funding", 8101)
OBJECTIVES = WebApp("objectives", 8102)
PARTNERS = WebApp("partners", 8103)
NOTIFIER = WebApp("notifier", 8104)
SERVICES = (FUNDING, OBJECTIVES, PARTNERS, NOTIFIER)
SERVICE_NAMES = tuple(s.name for s in SERVICES)

CONSOLE = WebApp("console", 8100)  # the administrators' web console (regia_console)

# The embedded infrastructure avoids the usual ports on purpose: a system PostgreSQL often
# holds 5432, and a developer's own Kafka 9092.
EMBEDDED_PG_PORT = ("REGIA_EMBEDDED_PG_PORT", 55432)
EMBEDDED_KAFKA_PORT = ("REGIA_EMBEDDED_KAFKA_PORT", 19092)
EMBEDDED_SMTP_PORT = ("REGIA_EMBEDDED_SMTP_PORT", 1025)


def service(name: str) -> WebApp:
    """The service called `name` (KeyError if there is none)."""
    return {s.name: s for s in SERVICES}[name]


def env_port(var: str, default: int, env: Mapping[str, str] = os.environ) -> int:
    raw = env.get(var, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SettingError(f"{var}={raw!r} is not a TCP port (1-65535)")
    return int(raw)


def local_url(port: int, env: Mapping[str, str] = os.environ) -> str:
    """The URL a service on this machine answers at (a wildcard bind is reached on loopback)."""
    host = env.get("REGIA_HTTP_HOST", "").strip() or LOOPBACK
    if host in {"0.0.0.0", "::", "[::]"}:
        host = LOOPBACK
    return f"http://{host}:{port}"
