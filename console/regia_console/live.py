"""The live side: the event stream (page and Server-Sent Events) and the dead letters,
whose retry is the console's one write, CSRF-protected with the session's token."""

import asyncio
import json
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, StreamingResponse

from .auth import Admin, checked_form
from .gateway import Refused, or_none
from .rendering import render

KEEPALIVE_S = 15.0  # a comment line now and then keeps proxies from closing an idle stream


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
