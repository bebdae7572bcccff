"""`python -m regia_console`: the console on REGIA_CONSOLE_PORT (default 8100)."""

import asyncio
from types import FrameType

import uvicorn

from regia_shared.http.serving import connection_options
from regia_shared.observability.logs import configure_logging

from .feed import EventFeed
from .settings import ConsoleSettings
from .web import create_app


class ConsoleServer(uvicorn.Server):
    """Ends the open event streams as soon as a stop is asked for: uvicorn waits for open
    connections before it runs the app's shutdown, and an event stream never ends by itself."""

    def __init__(self, config: uvicorn.Config, feed: EventFeed) -> None:
        super().__init__(config)
        self.feed = feed  # the served app's (app.state.feed)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        try:
            asyncio.get_running_loop().call_soon_threadsafe(self.feed.end_streams)
        except RuntimeError:  # no loop yet: nothing is streaming
            pass


def main() -> None:
    settings = ConsoleSettings()
    configure_logging("console", settings.log_level, json=settings.log_json)
    # access_log off: the console's own requests tell an operator nothing the services' don't.
    app = create_app(settings)
    feed: EventFeed = app.state.feed
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.console_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=3,
        **connection_options(settings.http_header_timeout_s, settings.http_keep_alive_s),
    )
    ConsoleServer(config, feed).run()


if __name__ == "__main__":
    main()
