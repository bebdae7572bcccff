"""`python -m regia_notifier` / `regia-notifier`: serve the notifier service."""

import uvicorn

from regia_shared.http.serving import uvicorn_options

from .config import NotifierSettings


def main() -> None:
    settings = NotifierSettings()
    uvicorn.run("regia_notifier.app:create_app", factory=True, **uvicorn_options(settings, settings.http_port))


if __name__ == "__main__":
    main()
