"""`python -m regia_objectives` / `regia-funding`: serve the objectives service."""

import uvicorn

from .config import ObjectivesSettings


def main() -> None:
    settings = ObjectivesSettings()
    uvicorn.run("regia_objectives.app:create_app", factory=True, host=settings.http_host,
                port=settings.http_port, log_config=None, access_log=False,
                # X-Forwarded-For is believed only from REGIA_TRUSTED_PROXIES (regia_shared.audit),
                # not from uvicorn's default of loopback
                proxy_headers=False)


if __name__ == "__main__":
    main()
