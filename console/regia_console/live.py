"""The live side: the event stream (page and Server-Sent Events), each event worded for a
person and filterable; the undelivered alerts (the notifier's dead deliveries), whose retry
is CSRF-protected with the session's token like every write of the console; the poison
events every service's consumers set aside (its dead letters), with their replay; and the
alerts nobody received (the notifier keeps them; the console lists them a page at a time)."""

import asyncio
import json
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, StreamingResponse

from .auth import Admin, LoginRequired, Staff, checked_form, fresh
from .feed import EventFeed, remember
from .gateway import Gateway, NotFound, Refused, TokenRefused, Unavailable, listed, or_none, path
from .narration import KINDS, Names, describe, kind_of, matches
from .rendering import language_of, render

SERVICES = ("funding", "objectives", "partners", "notifier")
POISON_SHOWN = 500  # poison events per service on the page, the oldest first
LOOKUPS = 30  # names a page asks the services for at most, per kind of name

KEEPALIVE_S = 15.0  # a comment line now and then keeps proxies from closing an idle stream
UNADDRESSED_PAGE = 100  # alerts nobody received, per page


def live_router() -> APIRouter:
    router = APIRouter()

    @router.get("/events")
    async def events_page(
        request: Request,
        session: Staff,
        objective: Annotated[str | None, Query(max_length=100)] = None,
        kind: Annotated[str | None, Query(max_length=30)] = None,
        institution: Annotated[str | None, Query(max_length=100)] = None,
    ):
        feed = request.app.state.feed
        objective, kind, institution = objective or None, kind or None, institution or None
        if kind and kind not in KINDS and kind != "other":
            raise Refused(f"kind: not a kind of event ({', '.join([*KINDS, 'other'])})")
        recent = list(reversed(feed.recent))
        names = await known_names(request.app.state.gateway, session.token, feed, recent)
        language = language_of(request)
        shown = [
            {**e, "text": describe(e, language, names), "kind": kind_of(e["type"])}
            for e in recent
            if matches(e, objective, kind, institution)
        ]
        return render(
            request,
            "events.html",
            session=session,
            events=shown,
            total=len(recent),
            connected=feed.connected,
            kinds=[*KINDS, "other"],
            objectives=sorted(
                {(e["objective_id"], names.title(e["objective_id"])) for e in recent if e["objective_id"]},
                key=lambda p: p[1].lower(),
            ),
            institutions=sorted(
                {(i, names.institution(i)) for e in recent for i in institutions_of(e)}, key=lambda p: p[1].lower()
            ),
            chosen={"objective": objective or "", "kind": kind or "", "institution": institution or ""},
        )

    @router.get("/events/stream")
    async def event_stream(request: Request, session: Staff):
        feed = request.app.state.feed
        language = language_of(request)

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
                    try:  # the stream outlives access tokens: each lookup uses a fresh one
                        await fresh(request, session)
                        names = await known_names(request.app.state.gateway, session.token, feed, [event])
                    except (LoginRequired, TokenRefused, Unavailable):
                        return  # the session is over: the page's script reconnects and meets the login
                    shown = {
                        "occurred_at": event["occurred_at"],
                        "type": event["type"],
                        "kind": kind_of(event["type"]),
                        "objective_id": event["objective_id"],
                        "institutions": sorted(institutions_of(event)),
                        "text": describe(event, language, names),
                    }
                    yield f"event: envelope\ndata: {json.dumps(shown)}\n\n"
            finally:
                feed.unlisten(queue)

        return StreamingResponse(
            lines(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        )

    @router.get("/dead-letters")
    async def undelivered_page(request: Request, session: Staff, retried: int | None = None):
        """The undelivered alerts: deliveries the notifier gave up on (it calls them its dead
        letters, hence the path, kept for the links and forms that use it)."""
        found = await or_none(request.app.state.gateway.get("notifier", "/v1/dead-letters", session.token, limit=200))
        return render(request, "dead_letters.html", session=session, rows=listed(found)[0], retried=retried)

    @router.get("/poison-events")
    async def poison_page(
        request: Request,
        session: Staff,
        replayed: int | None = None,
        still: int | None = None,
        everything: bool = False,
    ):
        """Every service's poison events: records its consumers could not read and set aside."""
        gateway = request.app.state.gateway
        answers = await asyncio.gather(
            *(
                or_none(
                    gateway.get(
                        service, "/v1/ops/dead-letters", session.token, limit=POISON_SHOWN, pending=not everything
                    )
                )
                for service in SERVICES
            )
        )
        # Each service answers a page ({items, next_cursor}): the oldest POISON_SHOWN.
        pages = [listed(answer)[0] for answer in answers]
        per_service = {
            service: None if rows is None else [poison_row(r) for r in rows]
            for service, rows in zip(SERVICES, pages, strict=True)
        }
        return render(
            request,
            "poison.html",
            session=session,
            per_service=per_service,
            replayed=replayed,
            still=still,
            everything=everything,
        )

    @router.post("/poison-events/replay")
    async def replay(request: Request, session: Admin):
        form = await checked_form(request, session)
        service = form.get("service", "")
        if service not in SERVICES:
            raise Refused(f"service: not one of {', '.join(SERVICES)}")
        if form.get("all") == "1":
            asked: dict = {"all": True}
        else:
            raw = form.get("id", "")
            if not raw.isdigit() or not 1 <= int(raw) < 2**63:
                raise Refused("id: not a poison event's id (a whole number, as the list shows it)")
            asked = {"ids": [int(raw)]}
        done = await request.app.state.gateway.post(service, "/v1/ops/dead-letters/replay", session.token, asked)
        replayed = done.get("replayed") if isinstance(done, dict) else None
        # Applied now by their consumer; those still unreadable stay pending (with this try's error).
        still = len(done.get("still_poison") or []) + len(done.get("failed") or []) if isinstance(done, dict) else 0
        tail = f"&still={still}" if still else ""
        return RedirectResponse(f"/poison-events?replayed={len(replayed or [])}{tail}", status_code=303)

    @router.get("/alerts/unaddressed")
    async def unaddressed_page(
        request: Request,
        session: Staff,
        cursor: Annotated[str | None, Query(max_length=2000)] = None,
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    ):
        # The notifier pages by cursor: `cursor` is the next_cursor of the page before,
        # carried in the link to older alerts; `page` only numbers the page shown.
        asked = {"limit": UNADDRESSED_PAGE} | ({"cursor": cursor} if cursor else {})
        try:
            found = await request.app.state.gateway.get("notifier", "/v1/alerts/unaddressed", session.token, **asked)
        except (Unavailable, NotFound):
            found = None  # a gap that says so; a cursor the notifier refuses is a 400 page
        rows, older = listed(found)
        return render(request, "unaddressed.html", session=session, rows=rows, page=page, older=older)

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


def institutions_of(event: dict) -> set[str]:
    facts = event.get("facts") or {}
    cause = event.get("cause") or {}
    found = {facts.get("institution_id"), facts.get("partner_id"), (cause.get("facts") or {}).get("institution_id")}
    return {i for i in found if isinstance(i, str) and i}


async def known_names(gateway: Gateway, token: str, feed: EventFeed, events: list[dict]) -> Names:
    """The titles and institution names the events need: those the feed learnt from the
    events themselves, and the rest asked of the services (a few at a time, remembered; a
    name nobody gives reads as its id)."""
    objectives = {e["objective_id"] for e in events if e.get("objective_id")} - set(feed.titles)
    institutions = {i for e in events for i in institutions_of(e)} - set(feed.names)

    async def title(objective_id: str) -> None:
        found = await or_none(gateway.get("objectives", path("/v1/objectives/{}", objective_id), token))
        if isinstance(found, dict) and isinstance(found.get("title"), str):
            remember(feed.titles, objective_id, found["title"])

    async def name(partner_id: str) -> None:
        found = await or_none(gateway.get("partners", path("/v1/partners/{}", partner_id), token))
        if isinstance(found, dict) and isinstance(found.get("name"), str):
            remember(feed.names, partner_id, found["name"])

    await asyncio.gather(
        *(title(o) for o in sorted(objectives)[:LOOKUPS]), *(name(i) for i in sorted(institutions)[:LOOKUPS])
    )
    return Names(feed.titles, feed.names)


def poison_row(row: dict) -> dict:
    """A poison event as the page shows it: what it was (its type and objective, when its
    value is an envelope that says), since when, why, and whether it was replayed."""
    what, objective = "", ""
    try:
        envelope = json.loads(str(row.get("value") or ""))
    except ValueError:
        envelope = None
    if isinstance(envelope, dict):
        what = str(envelope.get("type") or "")[:100]
        payload = envelope.get("payload")
        if isinstance(payload, dict) and isinstance(payload.get("objective_id"), str):
            objective = payload["objective_id"][:100]
    return {**row, "what": what, "objective_id": objective}
