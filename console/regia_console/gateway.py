"""The services as the console reads them: one pooled HTTP client, the logged-in person's
access token on every call (so each service decides what that person may see and do), and
failures turned into "unavailable" for the page to say so, rather than an error page: one
service down must not blank the whole console. A 403 is the service saying the person's
role may not do this (`Forbidden`); a 401, that their token is no longer good
(`TokenRefused`: the session is over, log in again)."""

import asyncio
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from regia_shared.observability.logs import get_logger
from regia_shared.writes import reason_header

log = get_logger(__name__)

OBJECTIVES_PAGE = 500  # the largest page of the shared paging (regia_shared.http.paging.MAX_LIMIT)


class Unavailable(Exception):
    """A service did not answer usefully; the message says which and why (never the token)."""


class NotFound(Exception):
    pass


class LinkRefused(Exception):
    """An e-mail's link that the partners service does not honour: not Regia's (forged,
    mangled, its key retired), too old (`expired`), or used for what it does not allow
    (`status` 403). The message is the partners service's, safe to show."""

    def __init__(self, message: str, status: int, *, expired: bool = False) -> None:
        super().__init__(message)
        self.status, self.expired = status, expired


class Forbidden(Exception):
    """The person's role may not see or do this: a 403 page that says so. Raised by the
    console's own role check (auth.py) and when a service answers 403."""


class TokenRefused(Exception):
    """A service answered 401 to the person's access token: their session may have ended
    (logged out elsewhere, an administrator changed their role or disabled the account),
    which a refresh tells (web.py); or the service does not take people's tokens for this."""


class Refused(Exception):
    """What was asked is wrong (a service answered 400/422 to it, or the console itself
    found it so): the page is a 400 that says what was wrong, never a 500."""


def segment(value: object) -> str:
    """`value` as one path segment: every `/ ? # %` and space percent-encoded, so an id
    (an institution chooses its line ids) can never reach another endpoint of a service
    with the person's token. "." and ".." are encoded too: an HTTP client removes
    them as dot segments (`/v1/plans/..` would be `/v1/`), but never `%2E%2E`."""
    encoded = quote(str(value), safe="")
    return encoded.replace(".", "%2E") if encoded in (".", "..") else encoded


def path(template: str, *ids: object) -> str:
    """A service path with each id encoded as one segment: path("/v1/plans/{}", plan_id)."""
    return template.format(*(segment(i) for i in ids))


def _message(response: httpx.Response) -> str:
    """The refusal's own message, when it has the services' error shape."""
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("message") or "")[:300] if isinstance(body, dict) else ""


def _code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error") or "") if isinstance(body, dict) else ""


# A connection that ended before its answer came: sent again once when it was a read (GET).
CUT_OFF = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)

# An idle connection to a service is dropped after this long, well before the service closes
# it (REGIA_HTTP_KEEP_ALIVE_S, 75 s by default): a page's call never goes out on a connection
# the service is closing (regia_shared.http.serving.connection_options says why).
IDLE_CONNECTION_KEPT_S = 5.0


class Gateway:
    def __init__(self, urls: Mapping[str, str], timeout: float = 10.0) -> None:
        self.urls = dict(urls)
        self.http = httpx.AsyncClient(
            timeout=timeout, limits=httpx.Limits(max_connections=50, keepalive_expiry=IDLE_CONNECTION_KEPT_S)
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def get(self, service: str, path: str, token: str, **params: Any) -> Any:
        return await self._call("GET", service, path, token, params=params)

    async def post(
        self, service: str, path: str, token: str, body: Mapping | None = None, reason: str | None = None
    ) -> Any:
        """`reason`: why, for the audit trail (X-Regia-Reason), where the write needs one."""
        headers = reason_header(reason) if reason else None
        return await self._call("POST", service, path, token, json=body, extra_headers=headers)

    async def put(self, service: str, path: str, token: str, body: Mapping) -> Any:
        return await self._call("PUT", service, path, token, json=body)

    async def delete(self, service: str, path: str, token: str) -> Any:
        return await self._call("DELETE", service, path, token)

    async def _call(
        self, method: str, service: str, path: str, token: str, extra_headers: Mapping | None = None, **kwargs: Any
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}", **(extra_headers or {})}
        url = self.urls[service] + path
        try:
            try:
                response = await self.http.request(method, url, headers=headers, **kwargs)
            except CUT_OFF as exc:
                if method != "GET":
                    raise
                # The connection ended before an answer: a service restarting closes its
                # kept-alive connections, and one may cross this request. A read changes
                # nothing, so it is asked once more (the pool has dropped the connection that
                # failed) rather than the page saying the service is down when it is not.
                log.info("a read was cut off; asked again", service=service, error=type(exc).__name__)
                response = await self.http.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise Unavailable(f"{service}: {type(exc).__name__}") from None
        if response.status_code == 404:
            raise NotFound(f"{service}: {path}")
        if response.status_code in (400, 409, 413, 414, 422):
            raise Refused(f"{service} refused {method} {path}: {_message(response) or response.status_code}")
        if response.status_code == 401:
            raise TokenRefused(f"{service} no longer takes this session's token")
        if response.status_code == 403:
            raise Forbidden(_message(response) or f"{service} refused {method} {path} to this role")
        if response.status_code == 204:
            return None
        if response.status_code not in (200, 201):  # 5xx, a redirect never followed
            raise Unavailable(f"{service} answered {response.status_code} to {method} {path}")
        try:
            return response.json()
        except ValueError:  # a proxy's error page, a truncated body
            raise Unavailable(f"{service} answered {method} {path} with something that is not JSON") from None

    async def link(
        self, method: str, path: str, token: str, *, body: Mapping | None = None, client: str | None = None
    ) -> Any:
        """A partners route that a link of an e-mail authorises, its token as the bearer
        (the token never goes into a service's URL, whose paths are audited). `client`:
        the reader's address, as X-Forwarded-For, which the partners service believes only
        from a proxy it trusts (REGIA_TRUSTED_PROXIES), to throttle refused links per reader."""
        headers = {"Authorization": f"Bearer {token}"} | ({"X-Forwarded-For": client} if client else {})
        try:
            response = await self.http.request(method, self.urls["partners"] + path, headers=headers, json=body)
        except httpx.HTTPError as exc:
            raise Unavailable(f"partners: {type(exc).__name__}") from None
        if response.status_code in (401, 403):
            expired = response.status_code == 401 and _code(response) == "link_expired"
            raise LinkRefused(_message(response) or "this link is not valid", response.status_code, expired=expired)
        if response.status_code == 404:
            raise NotFound(_message(response) or f"partners: {path}")
        if response.status_code in (400, 413, 422):
            raise Refused(_message(response) or f"partners refused {method} {path}")
        if response.status_code != 200:
            raise Unavailable(f"partners answered {response.status_code} to {method} {path}")
        try:
            return response.json()
        except ValueError:
            raise Unavailable(f"partners answered {method} {path} with something that is not JSON") from None

    async def sessions(
        self,
        method: str,
        path: str,
        *,
        body: Mapping | None = None,
        token: str | None = None,
        client: str | None = None,
    ) -> httpx.Response:
        """A call of partners' logins and sessions (`/v1/sessions…`), answered as it is:
        the caller reads each refusal (wrong password, code required, locked). `client`:
        the person's address, as X-Forwarded-For, which partners believes only from a proxy
        it trusts (REGIA_TRUSTED_PROXIES lists the console in production), so its
        per-address throttle sees people rather than the console."""
        headers = ({"Authorization": f"Bearer {token}"} if token else {}) | (
            {"X-Forwarded-For": client} if client else {}
        )
        try:
            return await self.http.request(method, self.urls["partners"] + path, headers=headers, json=body)
        except httpx.HTTPError as exc:
            raise Unavailable(f"partners: {type(exc).__name__}") from None

    async def health(self) -> dict[str, bool]:
        """Each service's /health/ready, asked at once: the overview must not wait 4 timeouts."""

        async def ready(url: str) -> bool:
            try:
                return (await self.http.get(f"{url}/health/ready", timeout=2.0)).status_code == 200
            except httpx.HTTPError:
                return False

        answers = await asyncio.gather(*(ready(url) for url in self.urls.values()))
        return dict(zip(self.urls, answers, strict=True))

    async def summary(self, token: str, fiscal_year: int | None = None, plan_id: str | None = None) -> dict:
        """The objectives service's counts and money (`GET /v1/summary`), computed there:
        the overview never walks every objective (at 200,000 objectives that is 400
        requests). A service without it yet answers 404, which the caller reads as such."""
        params: dict[str, Any] = {}
        if fiscal_year is not None:
            params["fiscal_year"] = fiscal_year
        if plan_id:
            params["plan_id"] = plan_id
        found = await self.get("objectives", "/v1/summary", token, **params)
        if not isinstance(found, dict) or not isinstance(found.get("counts"), dict):
            raise Unavailable("objectives answered GET /v1/summary with something that is not a summary")
        return found

    async def all_plans(self, token: str) -> list[dict]:
        """Every plan (a region has tens, not thousands), page by page."""
        return await self._every("/v1/plans", token)

    async def _every(self, listing: str, token: str) -> list[dict]:
        """Every item of an objectives listing, following `next_cursor` to the end."""
        found: list[dict] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": OBJECTIVES_PAGE, **({"cursor": cursor} if cursor else {})}
            page = await self.get("objectives", listing, token, **params)
            if not isinstance(page, dict) or not isinstance(page.get("items"), list):
                raise Unavailable(f"objectives answered GET {listing} with something that is not a page")
            found += [o for o in page["items"] if isinstance(o, dict)]
            cursor = page.get("next_cursor")
            if not isinstance(cursor, str) or not cursor:
                return found


def listed(answer: object, key: str | None = None) -> tuple[list[dict] | None, str | None]:
    """The rows and next cursor of a listing in either shape a service answers while the
    services move to the one paging style: a page (`{"items", "next_cursor"}`), a plain
    list, or (`key`) a document holding the list (`{"roles": [...]}`); (None, None) for
    anything else, a service down included."""
    if isinstance(answer, dict) and isinstance(answer.get("items"), list):
        cursor = answer.get("next_cursor")
        rows = [r for r in answer["items"] if isinstance(r, dict)]
        return rows, cursor if isinstance(cursor, str) and cursor else None
    if key and isinstance(answer, dict) and isinstance(answer.get(key), list):
        return [r for r in answer[key] if isinstance(r, dict)], None
    if isinstance(answer, list):
        return [r for r in answer if isinstance(r, dict)], None
    return None, None


async def or_none(call: Any) -> Any:
    """The answer, or None when the service is unavailable, does not know the thing or
    refuses the question: the page shows a gap, not an error page, for a part of it."""
    try:
        return await call
    except (Unavailable, NotFound, Refused, Forbidden, TokenRefused):
        return None
