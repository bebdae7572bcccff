"""The services as the console reads them: one pooled HTTP client, the session's admin
token on every call, and failures turned into "unavailable" for the page to say so,
rather than an error page: one service down must not blank the whole console."""

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx

OBJECTIVES_PAGE = 1000  # the objectives service's largest page


class Unavailable(Exception):
    """A service did not answer usefully; the message says which and why (never the token)."""


class NotFound(Exception):
    pass


class Gateway:
    def __init__(self, urls: Mapping[str, str], timeout: float = 10.0) -> None:
        self.urls = dict(urls)
        self.http = httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_connections=50))

    async def close(self) -> None:
        await self.http.aclose()

    async def get(self, service: str, path: str, token: str, **params: Any) -> Any:
        return await self._call("GET", service, path, token, params=params)

    async def post(self, service: str, path: str, token: str, body: Mapping) -> Any:
        return await self._call("POST", service, path, token, json=body)

    async def _call(self, method: str, service: str, path: str, token: str, **kwargs: Any) -> Any:
        try:
            response = await self.http.request(method, self.urls[service] + path,
                                               headers={"Authorization": f"Bearer {token}"}, **kwargs)
        except httpx.HTTPError as exc:
            raise Unavailable(f"{service}: {type(exc).__name__}") from None
        if response.status_code == 404:
            raise NotFound(f"{service}: {path}")
        if response.status_code >= 400:
            raise Unavailable(f"{service} answered {response.status_code} to {method} {path}")
        return response.json()

    async def health(self) -> dict[str, bool]:
        """Each service's /health/ready, asked at once: the overview must not wait 4 timeouts."""
        async def ready(url: str) -> bool:
            try:
                return (await self.http.get(f"{url}/health/ready", timeout=2.0)).status_code == 200
            except httpx.HTTPError:
                return False
        answers = await asyncio.gather(*(ready(url) for url in self.urls.values()))
        return dict(zip(self.urls, answers))

    async def all_objectives(self, token: str) -> list[dict]:
        """Every objective with its statuses per year, page by page."""
        found: list[dict] = []
        while True:
            page = await self.get("objectives", "/v1/objectives", token,
                                  limit=OBJECTIVES_PAGE, offset=len(found))
            found += page
            if len(page) < OBJECTIVES_PAGE:
                return found


async def or_none(call: Any) -> Any:
    """The answer, or None when the service is unavailable: the page shows a gap, not a 500."""
    try:
        return await call
    except Unavailable:
        return None
