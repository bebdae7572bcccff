"""Calling a service's admin API from the command line, with errors an operator can act on.

The admin token travels only in the Authorization header; no message here ever includes
it, and httpx never puts headers in its exception texts.
"""

import contextlib
import os
from collections.abc import Collection, Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import typer

from regia_shared.contracts.catalogue import SERVICES
from regia_shared.writes import reason_header

# Where the services answer unless REGIA_<SERVICE>_URL says otherwise, for help texts.
# The most items a service's listing answers in one page (regia_shared.http.paging.MAX_LIMIT).
PAGE_LIMIT = 500
DEFAULT_URLS = f"{SERVICES[0].default_url}..{SERVICES[-1].default_port}"


class AdminError(Exception):
    """A request failed; the message says what happened and what to do about it."""


@contextlib.contextmanager
def reported() -> Iterator[None]:
    """Turn an AdminError into one line on stderr and exit status 1."""
    try:
        yield
    except AdminError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def admin_token_from_env() -> str:
    token = os.environ.get("REGIA_ADMIN_TOKEN", "").strip()
    if not token:
        raise AdminError(
            "REGIA_ADMIN_TOKEN is not set: export the admin token that `regia up` printed "
            "when it started (or the one you started it with)"
        )
    return token


def segment(value: str) -> str:
    """One URL path segment, escaped so an id can never change the path."""
    return quote(value, safe="")


class ServiceClient:
    """`reason`: why its writes are made, sent as X-Regia-Reason with each request (the
    services require one for changes of money, plans, roles and rules: docs/api.md)."""

    def __init__(
        self, service: str, base_url: str, token: str, timeout: float = 10.0, reason: str | None = None
    ) -> None:
        self.service = service
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}", **(reason_header(reason) if reason else {})}
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, headers=headers)

    def __enter__(self) -> "ServiceClient":
        return self

    def __exit__(self, *_: object) -> None:
        self._http.close()

    def request(
        self, method: str, path: str, *, json: object = None, ok: Collection[int] = (200, 201, 204)
    ) -> httpx.Response:
        where = f"the {self.service} service at {self.base_url}"
        try:
            response = self._http.request(method, path, json=json)
        except httpx.ConnectError:
            raise AdminError(
                f"cannot reach {where}: is `regia up` running? "
                f"(set REGIA_{self.service.upper()}_URL if it runs elsewhere)"
            ) from None
        except httpx.TimeoutException:
            raise AdminError(f"{where} did not answer {method} {path} in time") from None
        except httpx.HTTPError as exc:
            raise AdminError(f"{method} {path} on {where} failed: {exc}") from None
        if response.status_code in ok:
            return response
        if response.status_code == 401:
            raise AdminError(
                f"{where} refused the admin token: REGIA_ADMIN_TOKEN is not the token the services were started with"
            )
        raise AdminError(f"{method} {path} on {where} answered {response.status_code}: {problem(response)}")

    def listing(self, path: str, filters: Mapping[str, object], at_most: int) -> list[dict[str, Any]]:
        """Up to `at_most` items of a paged listing (`{"items", "next_cursor"}`, the one
        paging style of every service), walking its pages, each at most a page's limit."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while len(items) < at_most:
            query = {**filters, "limit": min(PAGE_LIMIT, at_most - len(items))}
            if cursor:
                query["cursor"] = cursor
            page = self.request("GET", f"{path}?{urlencode(query, doseq=True)}", ok=(200,)).json()
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        return items


def problem(response: httpx.Response) -> str:
    """The service's own explanation: the `message` of Regia's error body, else FastAPI's
    `detail`, else the start of the text."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(body, dict):
        for field in ("message", "detail"):
            if body.get(field):
                return str(body[field])
    return str(body)[:300]
