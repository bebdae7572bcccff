"""The live side: the event stream (page and Server-Sent Events), the dead letters, whose
retry is the console's one write, CSRF-protected with the session's token, and the alerts
nobody received (the notifier keeps them; the console lists them a page at a time)."""

import asyncio
import json
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, StreamingResponse

from .auth import Admin, checked_form
from .gateway import Refused, or_none
from .rendering import render

KEEPALIVE_S = 15.0  # a comment line now and then keeps proxies from closing an idle stream
UNADDRESSED_PAGE = 100  # alerts nobody received, per page


def live_router() -> APIRouter:
    router = APIRouter()

    @router.get("/events")
    async def events_page(request: Request, session: Admin):
        feed = request.app.state.feed
        return render(
            request, "events.html", session=session, events=list(reversed(feed.recent)), connected=feed.connected
        )

    @router.get("/events/stream")
    async def event_stream(request: Request, session: Admin):
        feed = request.app.state.feed

        async def lines():
            queue = feed.listen()
            try:
                yield "retry: 3000\n\n"
                while True:
                    try:
                        event = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                    except TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                    if event is None:  # the console is stopping
                        return
                    yield f"event: envelope\ndata: {json.dumps(event)}\n\n"
            finally:
                feed.unlisten(queue)

        return StreamingResponse(
            lines(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        )

    @router.get("/dead-letters")
    async def dead_letters_page(request: Request, session: Admin, retried: int | None = None):
        rows = await or_none(request.app.state.gateway.get("notifier", "/v1/dead-letters", session.token, limit=200))
        return render(request, "dead_letters.html", session=session, rows=rows, retried=retried)

    @router.get("/alerts/unaddressed")
    async def unaddressed_page(request: Request, session: Admin, page: Annotated[int, Query(ge=1, le=100_000)] = 1):
        # One more than a page is asked for: whether there is an older page, without a count.
        rows = await or_none(
            request.app.state.gateway.get(
                "notifier",
                "/v1/alerts/unaddressed",
                session.token,
                limit=UNADDRESSED_PAGE + 1,
                offset=(page - 1) * UNADDRESSED_PAGE,
            )
        )
        if not isinstance(rows, list):
            rows = None
        return render(
            request,
            "unaddressed.html",
            session=session,
            rows=None if rows is None else [r for r in rows[:UNADDRESSED_PAGE] if isinstance(r, dict)],
            page=page,
            older=rows is not None and len(rows) > UNADDRESSED_PAGE,
        )

    @router.post("/dead-letters/retry")
    async def retry(request: Request, session: Admin):
        form = await checked_form(request, session)
        if form.get("all") == "1":
            asked: dict = {"all": True}
        else:
            try:
                asked = {"delivery_ids": [str(UUID(form.get("delivery_id", "")))]}
            except ValueError:  # a hand-made form: say so, ask the notifier nothing
                raise Refused(
                    "delivery_id: not a delivery id (a UUID such as 6f1c1f7e-6a4b-4bd5-9d59-0123456789ab)"
                ) from None
        done = await request.app.state.gateway.post("notifier", "/v1/dead-letters/retry", session.token, asked)
        retried = done.get("retried") if isinstance(done, dict) else None
        return RedirectResponse(f"/dead-letters?retried={len(retried or [])}", status_code=303)

    return router
