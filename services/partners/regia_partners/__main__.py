"""`python -m regia_partners` / `regia-partners`: serve the partners service."""

import uvicorn

from regia_shared.http.serving import uvicorn_options

from .config import PartnersSettings


def main() -> None:
    settings = PartnersSettings()
    uvicorn.run("regia_partners.app:create_app", factory=True, **uvicorn_options(settings, settings.http_port))


if __name__ == "__main__":
    main()
