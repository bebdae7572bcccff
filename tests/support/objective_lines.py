"""The funding lines the objectives service has projected onto an objective, read back
from its history (`GET /v1/objectives/{id}/changes`, newest first, paged): each line at
its newest version. The objective document no longer embeds its lines (issue 18); tests
that compare the projection line by line read them here."""

from collections.abc import Iterator

import httpx

PAGE = 500


def _latest(pages: Iterator[dict]) -> dict[str, int]:
    newest: dict[str, tuple[int, int]] = {}
    for page in pages:
        for change in page["items"]:
            held = newest.get(change["line_id"])
            if held is None or change["line_version"] > held[0]:
                newest[change["line_id"]] = (change["line_version"], change["committed_after_cents"])
    return {line: cents for line, (_, cents) in newest.items()}


async def projected_lines(client: httpx.AsyncClient, objectives_url: str, objective_id: str) -> dict[str, int]:
    """{line_id: committed_cents} as the objectives service holds them."""
    pages, cursor = [], None
    while True:
        params: dict[str, str | int] = {"limit": PAGE, **({"cursor": cursor} if cursor else {})}
        r = await client.get(f"{objectives_url}/v1/objectives/{objective_id}/changes", params=params)
        r.raise_for_status()
        pages.append(r.json())
        cursor = pages[-1]["next_cursor"]
        if cursor is None:
            return _latest(iter(pages))


def projected_lines_sync(objectives_url: str, objective_id: str) -> dict[str, int]:
    pages, cursor = [], None
    while True:
        params: dict[str, str | int] = {"limit": PAGE, **({"cursor": cursor} if cursor else {})}
        r = httpx.get(f"{objectives_url}/v1/objectives/{objective_id}/changes", params=params, timeout=10)
        r.raise_for_status()
        pages.append(r.json())
        cursor = pages[-1]["next_cursor"]
        if cursor is None:
            return _latest(iter(pages))
