"""Issue 19, one written policy for reads (docs/security.md, "What is public"): every
operation of the four services' OpenAPI documents is classified (x-regia-access, from
regia_shared.http.access, which each service checks before it serves); every GET that is
not public refuses an anonymous caller; and every public GET, answered anonymously on a
system holding a contact, an institution key and a webhook, carries none of them, nor
any field of the kind (e-mail, key, secret, webhook URL, audit actor)."""

import json
import re
from collections.abc import Iterator

import pytest

from regia_notifier.app import create_app as notifier_app
from regia_objectives.adapters.planfile import write_plan
from regia_objectives.app import create_app as objectives_app
from regia_objectives.domain.plan_file import PlanFile
from regia_objectives.domain.tree import Node, NodeKind, Plan
from regia_partners.app import create_app as partners_app
from regia_shared.http.access import ACCESS_EXTENSION, Access

from ..support.funding_api import commitment, issue_key
from ..support.services import ADMIN_HEADERS, ADMIN_TOKEN, RunningService, in_process

pytestmark = pytest.mark.usefixtures("service_env")
EMAIL = "segreteria.riservata@example.it"
# On the test network (allowed in tests: tests/support/services.py), as no public name resolves here.
WEBHOOK_URL = "https://127.0.0.1:9/very-private-path"
# Keys no anonymous answer may hold at any depth: contacts, credentials, endpoints, audit.
FORBIDDEN_KEYS = {
    "email",
    "emails",
    "contact",
    "contacts",
    "contact_id",
    "key",
    "key_id",
    "key_sha256",
    "secret",
    "url",
    "webhook",
    "webhooks",
    "webhook_id",
    "actor",
    "claimed_actor",
    "pushed_by",
}
# Documents about the API (their schemas name such fields, as schemas): read, not scanned
# for keys, but still scanned for the values.
DOCUMENTS = {"/asyncapi.json", "/asyncapi", "/docs", "/metrics", "/v1/webhooks/payload-schema"}
# Path parameters filled with the seeded ids, so each read finds what it would show.
IDS = {
    "objective_id": "miglio-blu",
    "plan_id": "spezia-2019",
    "fiscal_year": "2027",
    "line_id": "LIG-1",
    "institution_id": "regione-liguria",
    "partner_id": "porto",
    "contact_id": "segreteria",
    "webhook_id": "porto-hook",
}


def concrete(template: str) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: IDS.get(m.group(1), "x-1"), template)


def keys(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from keys(v)
    elif isinstance(value, list):
        for v in value:
            yield from keys(v)


async def seed(
    funding: RunningService, partners: RunningService, objectives: RunningService, notifier: RunningService
) -> str:
    plan = Plan("spezia-2019", "Il Miglio Blu", "La Spezia", 92461, 2026, 2028)
    nodes = [
        Node("vision-2019", "spezia-2019", None, NodeKind.VISION, "Visione"),
        Node("miglio-blu", "spezia-2019", "vision-2019", NodeKind.OBJECTIVE, "Il Miglio Blu", 1, {2027: 10**8}),
    ]
    async with objectives.client(headers={"Content-Type": "application/yaml", **ADMIN_HEADERS}) as admin:
        r = await admin.post("/v1/plans/import", content=write_plan(PlanFile(plan, nodes, {})).encode())
        assert r.status_code == 200, r.text
    async with partners.client(headers=ADMIN_HEADERS) as admin:
        r = await admin.post("/v1/partners", json={"partner_id": "porto", "name": "Porto", "kind": "ENTERPRISE"})
        assert r.status_code == 201, r.text
        r = await admin.post(
            "/v1/partners/porto/contacts", json={"contact_id": "segreteria", "name": "Segreteria", "email": EMAIL}
        )
        assert r.status_code == 201, r.text
    async with notifier.client(headers=ADMIN_HEADERS) as admin:
        r = await admin.post(
            "/v1/webhooks", json={"webhook_id": "porto-hook", "partner_id": "porto", "url": WEBHOOK_URL}
        )
        assert r.status_code == 201, r.text
    key = await issue_key(funding, "regione-liguria")
    async with funding.client(headers={**key, "Idempotency-Key": "a-1"}) as region:
        r = await region.post("/v1/funding-events", json=commitment("LIG-1"))
        assert r.status_code == 202, r.text
    return key["Authorization"].removeprefix("Bearer ")


async def test_every_route_is_classified_and_anonymous_reads_hold_no_contact_or_key(funding) -> None:  # type: ignore[no-untyped-def]
    async with (
        in_process("partners", partners_app) as partners,
        in_process("objectives", objectives_app) as objectives,
        in_process("notifier", notifier_app) as notifier,
    ):
        institution_key = await seed(funding, partners, objectives, notifier)
        secrets = [EMAIL, WEBHOOK_URL, institution_key, ADMIN_TOKEN]
        public_reads = 0
        for service in (funding, partners, objectives, notifier):
            async with service.client() as anonymous:
                doc = (await anonymous.get("/openapi.json")).json()
                for path, item in doc["paths"].items():
                    for method, operation in item.items():
                        access = operation.get(ACCESS_EXTENSION)
                        assert access in set(Access), (service.name, method, path, access)
                        if method != "get":
                            continue
                        r = await anonymous.get(concrete(path))
                        if access != Access.PUBLIC:
                            assert r.status_code == 401, (service.name, path, r.status_code)
                            continue
                        public_reads += 1
                        assert r.status_code not in (401, 403) and r.status_code < 500, (service.name, path, r.text)
                        assert not any(s in r.text for s in secrets), (service.name, path)
                        if r.headers.get("content-type", "").startswith("application/json") and path not in DOCUMENTS:
                            found = set(keys(json.loads(r.text))) & FORBIDDEN_KEYS
                            assert not found, (service.name, path, found)
                # Undocumented routes (metrics, API documents) are public and hold none either.
                for path in DOCUMENTS - {"/v1/webhooks/payload-schema"}:
                    r = await anonymous.get(path)
                    assert r.status_code == 200, (service.name, path)
                    assert not any(s in r.text for s in secrets), (service.name, path)
        # The open data and the objectives' reads are among them: the walk saw them.
        assert public_reads >= 20
