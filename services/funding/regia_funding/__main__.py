"""`python -m regia_funding` / `regia-funding`: serve the funding service."""

import uvicorn

from regia_shared.http.serving import uvicorn_options

from .config import FundingSettings


def main() -> None:
    settings = FundingSettings()
    uvicorn.run("regia_funding.app:create_app", factory=True, **uvicorn_options(settings, settings.http_port))


if __name__ == "__main__":
    main()
