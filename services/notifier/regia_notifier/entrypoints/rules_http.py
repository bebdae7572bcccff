"""Admin API for the alert rules (data, not code), and whom their audiences reach."""

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Response

from regia_shared.http.auth import STAFF
from regia_shared.http.dependencies import DatabasePool
from regia_shared.http.paging import Page, Paged, text
from regia_shared.http.writes import ReasonedWrite
from regia_shared.writes import record_write

from ..adapters import audiences, objectives_seen, rules
from ..domain.rules import ROLE_AUDIENCES, RULE_ID, Audience, Rule, RuleSpec
from .models import Audience as AudienceAnswer

RuleId = Annotated[str, Path(pattern=RULE_ID, description="letters, digits, '.', '_' or '-'")]


def rules_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["rules"], dependencies=[Depends(STAFF)])

    @router.get("/rules")
    async def list_rules(pool: DatabasePool, page: Paged) -> Page[Rule]:
        """Every rule, enabled or not, by id."""
        after = page.after("rules", {}, (text,))
        async with pool.acquire() as conn:
            found = await rules.all_rules(conn, after=after[0] if after else None, limit=page.limit + 1)
        return page.of(found, key=lambda r: (r.rule_id,))

    @router.get("/rules/{rule_id}")
    async def get_rule(pool: DatabasePool, rule_id: RuleId) -> Rule:
        async with pool.acquire() as conn:
            found = await rules.one(conn, rule_id)
        if found is None:
            raise HTTPException(404, detail=f"no rule {rule_id}")
        return found

    @router.put(
        "/rules/{rule_id}",
        status_code=201,
        responses={200: {"model": Rule, "description": "Replaced an existing rule"}},
    )
    async def put_rule(
        pool: DatabasePool, response: Response, rule_id: RuleId, spec: RuleSpec, write: ReasonedWrite
    ) -> Rule:
        """Create or replace a rule. It applies to events planned from now on; alerts
        already planned are not recalled."""
        rule = Rule(rule_id=rule_id, **spec.model_dump())
        async with pool.acquire() as conn, conn.transaction():
            created = await rules.put(conn, rule)
            write.status = 201 if created else 200
            # The rule as it now stands, with who changed it and why, in the same transaction.
            await record_write(
                conn,
                write,
                subject=f"rule:{rule_id}",
                effect={"created": created, "rule": rule.model_dump(mode="json")},
            )
        response.status_code = write.status
        return rule

    @router.get("/objectives/{objective_id}/audience", response_model=AudienceAnswer)
    async def audience(
        pool: DatabasePool, objective_id: Annotated[str, Path(max_length=100)], on: date | None = None
    ) -> dict:
        """Whom each audience of a rule would reach for this objective now (or on a day),
        as this service has learnt it from partner and objective events."""
        day = on or datetime.now(UTC).date()
        async with pool.acquire() as conn:
            held = await audiences.holders(conn, (objective_id,), set(ROLE_AUDIENCES))
            members = await audiences.network_members(conn, (objective_id,), day)
            known = await objectives_seen.one(conn, objective_id)
        by_audience: dict[str, list[str]] = {a.value: [] for a in sorted(ROLE_AUDIENCES)}
        for partner, role in held:
            by_audience[role.value].append(partner)
        return {
            "objective_id": objective_id,
            "on": day,
            **(known or {"title": None, "plan_id": None}),
            "audiences": {**by_audience, Audience.NETWORK_MEMBERS.value: members},
        }

    @router.delete("/rules/{rule_id}", status_code=204)
    async def delete_rule(pool: DatabasePool, rule_id: RuleId, write: ReasonedWrite) -> Response:
        async with pool.acquire() as conn, conn.transaction():
            if not await rules.delete(conn, rule_id):
                raise HTTPException(404, detail=f"no rule {rule_id}")
            await record_write(conn, write, subject=f"rule:{rule_id}", effect={"deleted": True})
        return Response(status_code=204)

    return router
