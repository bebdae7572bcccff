"""`python -m regia_objectives` / `regia-objectives`: serve the objectives service."""

import uvicorn

from regia_shared.http.serving import uvicorn_options

from .config import ObjectivesSettings


def main() -> None:
    settings = ObjectivesSettings()
    uvicorn.run("regia_objectives.app:create_app", factory=True, **uvicorn_options(settings, settings.http_port))


if __name__ == "__main__":
    main()
