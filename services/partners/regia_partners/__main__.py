"""`python -m regia_partners` / `regia-partners`: serve the partners service."""

import uvicorn

from .config import PartnersSettings


def main() -> None:
    settings = PartnersSettings()
    uvicorn.run("regia_partners.app:create_app", factory=True, host=settings.http_host,
                port=settings.http_port, log_config=None, access_log=False,
                # X-Forwarded-For is believed only from REGIA_TRUSTED_PROXIES (regia_shared.audit),
                # not from uvicorn's default of loopback
                proxy_headers=False)


if __name__ == "__main__":
    main()
