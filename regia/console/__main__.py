"""`python -m regia.console`: the console on REGIA_CONSOLE_PORT (default 8100)."""

import uvicorn

from regia_shared.logs import configure_logging

from .settings import ConsoleSettings
from .web import create_app


def main() -> None:
    settings = ConsoleSettings()
    configure_logging("console", settings.log_level, json=settings.log_json)
    # access_log off: a URL can carry an objective id, never a token, but logs stay quiet;
    # a short graceful shutdown, because an open event stream never ends by itself.
    uvicorn.run(create_app(settings), host=settings.http_host, port=settings.console_port,
                log_config=None, access_log=False, timeout_graceful_shutdown=3)


if __name__ == "__main__":
    main()
