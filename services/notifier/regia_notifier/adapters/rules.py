"""asyncpg adapter for the alert rules administrators edit."""

import json

import asyncpg

from ..domain.occurrences import Trigger
from ..domain.rules import Rule

_COLUMNS = "rule_id, trigger, condition, audience, enabled, description"


def _rule(row: asyncpg.Record) -> Rule:
    condition = json.loads(row["condition"])
    return Rule(
        rule_id=row["rule_id"],
        trigger=row["trigger"],
        audience=row["audience"],
        enabled=row["enabled"],
        description=row["description"],
        **condition,
    )


async def all_rules(conn: asyncpg.Connection, *, after: str | None = None, limit: int | None = None) -> list[Rule]:
    """Every rule by id, from just after the id `after` when given."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM alert_rules WHERE ($1::text IS NULL OR rule_id > $1) ORDER BY rule_id LIMIT $2",
        after,
        limit,
    )
    return [_rule(r) for r in rows]


async def enabled_for(conn: asyncpg.Connection, trigger: Trigger) -> list[Rule]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM alert_rules WHERE trigger = $1 AND enabled ORDER BY rule_id", trigger.value
    )
    return [_rule(r) for r in rows]


async def one(conn: asyncpg.Connection, rule_id: str) -> Rule | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM alert_rules WHERE rule_id = $1", rule_id)
    return None if row is None else _rule(row)


async def put(conn: asyncpg.Connection, rule: Rule) -> bool:
    """Create or replace a rule; True if it was created."""
    return await conn.fetchval(
        "INSERT INTO alert_rules (rule_id, trigger, condition, audience, enabled, description)"
        " VALUES ($1, $2, $3::jsonb, $4, $5, $6) ON CONFLICT (rule_id) DO UPDATE SET"
        " trigger = EXCLUDED.trigger, condition = EXCLUDED.condition, audience = EXCLUDED.audience,"
        " enabled = EXCLUDED.enabled, description = EXCLUDED.description, updated_at = now()"
        " RETURNING xmax = 0",
        rule.rule_id,
        rule.trigger.value,
        json.dumps(rule.condition),
        [a.value for a in rule.audience],
        rule.enabled,
        rule.description,
    )


async def delete(conn: asyncpg.Connection, rule_id: str) -> bool:
    return bool(await conn.fetchval("DELETE FROM alert_rules WHERE rule_id = $1 RETURNING 1", rule_id))
