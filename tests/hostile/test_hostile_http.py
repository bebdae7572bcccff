"""Hostile input on the real HTTP APIs: oversized and deeply nested bodies, wrong content
types, huge and fractional numbers, unicode edge cases, SQL injection and header injection.

Every refusal is a 4xx in the one error shape, and writes nothing: no row of any table of
the service (outbox, ledger, idempotency keys, partners...) changes. What is accepted is
stored verbatim, never executed."""

import json

import httpx
import pytest

from regia_shared.contracts import topics
from regia_shared.contracts.events.envelope import Envelope
from regia_shared.contracts.events.objectives import CoverageStatus, ObjectiveStatusChanged
from regia_shared.contracts.events.partners import ContactAdded, ObjectiveLeadAssigned, PartnerKind, PartnerRegistered
from regia_shared.contracts.levels import GovernmentLevel
from regia_shared.http.limits import MAX_BODY_BYTES
from regia_shared.http.paging import encode_cursor

from ..support import kafka
from ..support.figures import record
from ..support.funding_api import commitment, counts
from ..support.notifier_state import known_before_its_lead
from ..support.services import ADMIN_HEADERS
from ..support.wait import eventually
from .conftest import unchanged

pytestmark = pytest.mark.usefixtures("service_env")

ERROR_KEYS = {"error", "message", "field", "details"}
INJECTIONS = (
    "x'; DROP TABLE ledger_entries; --",
    "1 OR 1=1",
    "' OR '1'='1",
    '"; DELETE FROM outbox; --',
    "%' OR 1=1 --",
    "$1",
    "a\\'; SELECT pg_sleep(5); --",
)


def refused(r: httpx.Response, *statuses: int) -> dict:
    """The response is a refusal with one of the statuses, in the one error shape."""
    assert r.status_code in statuses, (r.status_code, r.text[:500])
    body = r.json()
    assert set(body) == ERROR_KEYS, body
    assert isinstance(body["error"], str) and body["error"], body
    assert isinstance(body["message"], str) and body["message"], body
    return body


def raw_post(
    headers: dict[str, str], content: bytes | str, content_type: str | None = "application/json", **kw: object
) -> dict:
    h = dict(headers)
    if content_type is not None:
        h["Content-Type"] = content_type
    return {"headers": h, "content": content, **kw}


# --- size and shape of the body ------------------------------------------------------------


async def test_an_oversized_body_is_refused_with_413_declared_or_chunked(funding, institution, database) -> None:  # type: ignore[no-untyped-def]
    headers = {**institution, "Idempotency-Key": "big-1"}
    padding = "x" * (MAX_BODY_BYTES + 10)
    big = json.dumps(commitment(reason=padding)).encode()

    async def chunked():  # type: ignore[no-untyped-def]  # no Content-Length: streamed in chunks
        for i in range(0, len(big), 64 * 1024):
            yield big[i : i + 64 * 1024]

    async with funding.client() as client, unchanged(database):
        declared = await client.post("/v1/funding-events", **raw_post(headers, big))
        streamed = await client.post("/v1/funding-events", **raw_post(headers, chunked()))
    for r in (declared, streamed):
        assert refused(r, 413)["error"] == "payload_too_large"
    # Just under the limit, a body is read and judged on its content (here: reason too long).
    async with funding.client() as client, unchanged(database):
        fits = json.dumps(commitment(reason="y" * (MAX_BODY_BYTES - 1000))).encode()
        r = await client.post("/v1/funding-events", **raw_post(headers, fits))
    assert refused(r, 422)["field"] == "reason"
    record("hostile http: oversized bodies", inputs=3, requests=3, euros_lost=0)


DEEP = [
    "[" * 100_000 + "]" * 100_000,
    '{"a":' * 50_000 + "1" + "}" * 50_000,
    '{"type": "commitment", "reason": ' + "[" * 500 + "]" * 500 + "}",
    '{"type": "commitment", "line_id": "L1", "extra": ' + '{"a":' * 40 + "1" + "}" * 40 + "}",
]
CONTENT_TYPES = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "application/xml",
    "multipart/form-data; boundary=x",
    "application/octet-stream",
    None,
]


async def test_deeply_nested_json_and_wrong_content_types_are_refused_not_a_500(funding, institution, database) -> None:  # type: ignore[no-untyped-def]
    headers = {**institution, "Idempotency-Key": "deep-1"}
    async with funding.client() as client, unchanged(database):
        for body in DEEP:
            refused(await client.post("/v1/funding-events", **raw_post(headers, body)), 400, 422)
            refused(await client.post("/v1/funding-events/batch", **raw_post(headers, body)), 400, 422)
        for content_type in CONTENT_TYPES:
            body = json.dumps(commitment()).encode() if content_type != "application/xml" else b"<commitment/>"
            error = refused(await client.post("/v1/funding-events", **raw_post(headers, body, content_type)), 415)
            assert error["error"] == "unsupported_media_type", error
            assert "application/json" in error["message"], error
    record(
        "hostile http: deep JSON and wrong content types",
        inputs=len(DEEP) + len(CONTENT_TYPES),
        requests=2 * len(DEEP) + len(CONTENT_TYPES),
        euros_lost=0,
    )


# --- numbers -------------------------------------------------------------------------------

BAD_AMOUNTS = [
    "10" + "0" * 29,
    "1e308",
    "1e999",
    "NaN",
    "Infinity",
    "-Infinity",
    '"100.5"',
    "100.5",
    "-1",
    "100.0",
    '"100"',
    "true",
    "null",
    "[100]",
    "9" * 5000,
]


HUGE_INTEGERS = [
    ("fiscal_year", "10" + "0" * 29),
    ("fiscal_year", "-1"),
    ("fiscal_year", "1e308"),
    ("fiscal_year", "99999999999"),
    ("fiscal_year", "2147483648"),
    ("expected_version", "10" + "0" * 29),
    ("expected_version", "9223372036854775808"),
    ("expected_version", "2147483648"),
]


async def test_bad_amounts_and_huge_integers_are_refused_and_change_nothing(funding, institution, database) -> None:  # type: ignore[no-untyped-def]
    headers = {**institution, "Idempotency-Key": "amt-1"}
    async with funding.client() as client, unchanged(database):
        for amount in BAD_AMOUNTS:
            body = json.dumps(commitment(amount=123)).replace("123", amount)
            refused(await client.post("/v1/funding-events", **raw_post(headers, body)), 422)
        for field, value in HUGE_INTEGERS:
            body = json.dumps({**commitment(), field: 424242}).replace("424242", value)
            refused(await client.post("/v1/funding-events", **raw_post(headers, body)), 404, 409, 422)
    record(
        "hostile http: bad amounts and huge integers",
        inputs=len(BAD_AMOUNTS) + len(HUGE_INTEGERS),
        requests=len(BAD_AMOUNTS) + len(HUGE_INTEGERS),
        euros_lost=0,
    )


async def test_huge_numbers_in_paths_and_queries_are_refused(funding, institution, objectives, database) -> None:  # type: ignore[no-untyped-def]
    async with funding.client(headers=institution) as client, unchanged(database):
        for path in (
            "/v1/totals?fiscal_year=" + "9" * 40,
            "/v1/totals?fiscal_year=1e308",
            "/v1/institutions/regione-liguria/entries?limit=" + "9" * 40,
            "/v1/institutions/regione-liguria/entries?limit=-1",
            "/v1/funding-lines?fiscal_year=" + "9" * 40,
            "/v1/funding-lines?limit=" + "9" * 40,
        ):
            refused(await client.get(path), 422)
    async with objectives.client(headers=ADMIN_HEADERS) as client, unchanged(database):
        r = await client.put("/v1/objectives/miglio-blu/needs/" + "9" * 40, json={"need_cents": 1})
        refused(r, 422)


async def test_what_schemathesis_found_stays_fixed(funding, institution, partners, objectives, database) -> None:  # type: ignore[no-untyped-def]
    """Integers past a BIGINT or a year column, and an id that would go into a header."""
    async with partners.client(headers=ADMIN_HEADERS) as client, unchanged(database):
        refused(await client.get("/v1/partners", params={"offset": "15528598252395432001929216"}), 422)
        # A cursor's key is the client's to forge: past a BIGINT, NUL, a lone surrogate, a
        # time without its zone, too short: 422 naming the cursor, never the driver's 500.
        for listing, filters, path, key in (
            ("ops-dead-letters", {"consumer": None, "pending": False}, "/v1/ops/dead-letters", [2**70]),
            ("ops-dead-letters", {"consumer": None, "pending": False}, "/v1/ops/dead-letters", ["1"]),
            ("partners", {}, "/v1/partners", ["a\x00", "a", "a"]),
            ("partners", {}, "/v1/partners", ["\ud800", "a", "a"]),
            ("partners", {}, "/v1/partners", ["a"]),
            ("contacts", {"partner_id": "x"}, "/v1/partners/x/contacts", ["2026-01-01T00:00:00", "c"]),
        ):
            r = await client.get(path, params={"cursor": encode_cursor(listing, filters, key)})
            refused(r, 422)
            assert r.json()["field"] == "cursor", (key, r.text)
        refused(await client.post("/v1/ops/dead-letters/replay", json={"ids": [1, -30161239716055363584]}), 422)
    async with objectives.client(headers=ADMIN_HEADERS) as client, unchanged(database):
        refused(await client.get("/v1/objectives", params={"limit": 10**20}), 422)
        refused(await client.get("/v1/objectives", params={"fiscal_year": 10**20}), 422)
        refused(await client.get("/v1/objectives/x/changes", params={"fiscal_year": 10**20}), 422)
        refused(await client.get("/v1/plans/p/reviews/594671368377"), 422)
        refused(await client.post("/v1/plans/p/reviews/594671368377"), 422)
        refused(await client.get("/v1/plans/p/reviews/compare", params={"from": 10**12, "to": 2027}), 422)
    async with funding.client(headers=ADMIN_HEADERS) as client:
        for odd in ("\u00c0\U000fabb3", 'a"; filename=evil.sh', "caf\u00e9"):
            r = await client.get("/v1/ledger/export", params={"institution_id": odd})
            assert r.status_code == 200, (odd, r.status_code, r.text[:200])
            assert r.headers["content-disposition"].count('"') == 2, r.headers["content-disposition"]
        r = await client.get("/v1/ledger/export", params={"institution_id": "a\r\nSet-Cookie: x=1"})
        assert r.status_code in (200, 422) and "set-cookie" not in r.headers, r.headers
    record("hostile http: schemathesis findings", inputs=10, requests=10, euros_lost=0)


# --- unicode -------------------------------------------------------------------------------

UNSTORABLE = ["Delibera\u0000 1", "\ud800 alone", "trail \udfff", "x" * 10_000]
ODD_BUT_VALID = [
    "Delibera \u202e1202/GRD\u202c",
    "Fondi 🌊🚢 per il Miglio Blu",
    "\u200b\ufeff zero width",
    "مدينة لا سبيتسيا",
    "e\u0301\u0301\u0301 combining",
    "x" * 2000,
    "\U0010fffd plane 16",
]


async def test_text_postgresql_cannot_hold_is_refused_odd_text_is_stored_verbatim(
    funding, institution, database
) -> None:  # type: ignore[no-untyped-def]
    async with funding.client(headers=institution) as client:
        async with unchanged(database):
            for reason in UNSTORABLE:
                body = json.dumps(commitment(reason=reason))  # ensure_ascii: \u0000, \ud800 as escapes
                r = await client.post("/v1/funding-events", **raw_post({"Idempotency-Key": "nul-1"}, body))
                assert refused(r, 422)["field"] == "reason"
        for i, reason in enumerate(ODD_BUT_VALID):
            r = await client.post(
                "/v1/funding-events",
                json=commitment(line_id=f"L-{i}", reason=reason),
                headers={"Idempotency-Key": f"odd-{i}"},
            )
            assert r.status_code == 202, r.text
            line = (await client.get(f"/v1/funding-lines/L-{i}")).json()
            assert line["history"][0]["reason"] == reason
    record(
        "hostile http: unicode edge cases",
        inputs=len(UNSTORABLE) + len(ODD_BUT_VALID),
        requests=len(UNSTORABLE) + 2 * len(ODD_BUT_VALID),
        euros_lost=0,
    )


async def test_nul_in_paths_queries_and_ids_is_refused_before_sql(
    funding, institution, partners, objectives, notifier, database
) -> None:  # type: ignore[no-untyped-def]
    probes = [
        (funding, institution, "GET", "/v1/funding-lines/a%00b", None),
        (funding, institution, "GET", "/v1/totals?level=%00", None),
        (funding, institution, "GET", "/v1/totals?objective_id=a%00", None),
        (funding, ADMIN_HEADERS, "GET", "/v1/institutions/a%00/entries", None),
        (funding, institution, "POST", "/v1/funding-events", commitment(line_id="L\u0000")),
        (partners, ADMIN_HEADERS, "GET", "/v1/partners/a%00", None),
        (partners, ADMIN_HEADERS, "GET", "/v1/partners?q=%00", None),
        (
            partners,
            ADMIN_HEADERS,
            "POST",
            "/v1/partners",
            {"partner_id": "p1", "name": "A\u0000B", "kind": "INSTITUTION", "level": "COMUNE"},
        ),
        (objectives, ADMIN_HEADERS, "GET", "/v1/objectives/a%00", None),
        (objectives, ADMIN_HEADERS, "POST", "/v1/objectives", {"objective_id": "o1", "title": "T\u0000"}),
        (partners, ADMIN_HEADERS, "POST", "/v1/partners/a%00/contacts", {"name": "A", "email": "a@b.it"}),
        (objectives, ADMIN_HEADERS, "PUT", "/v1/objectives/a%00/needs/2027", {"need_cents": 1}),
        (notifier, ADMIN_HEADERS, "GET", "/v1/deliveries?recipient=%00", None),
        (notifier, ADMIN_HEADERS, "GET", "/v1/objectives/a%00/recipients", None),
    ]
    for service, headers, method, path, body in probes:
        async with service.client(headers={**headers, "Idempotency-Key": "nul-2"}) as client, unchanged(database):
            r = await client.request(method, path, json=body)
        refused(r, 422)
    record("hostile http: NUL in paths, queries and bodies", inputs=len(probes), requests=len(probes), euros_lost=0)


# --- SQL injection -------------------------------------------------------------------------


async def test_sql_injection_is_stored_verbatim_or_refused_never_executed(
    funding, institution, partners, database
) -> None:  # type: ignore[no-untyped-def]
    async with funding.client(headers=institution) as client:
        for i, attack in enumerate(INJECTIONS):
            async with unchanged(database):
                refused(
                    await client.post(
                        "/v1/funding-events",
                        json=commitment(line_id=attack),
                        headers={"Idempotency-Key": f"sqli-id-{i}"},
                    ),
                    422,
                )
                refused(
                    await client.post(
                        "/v1/funding-events",
                        json=commitment(instrument_id=attack),
                        headers={"Idempotency-Key": f"sqli-in-{i}"},
                    ),
                    422,
                )
            assert (await client.get(f"/v1/funding-lines/{attack}")).status_code == 404
            totals = (await client.get("/v1/totals", params={"objective_id": attack})).json()
            assert all(t["lines"] == 0 for t in totals), totals
            # A level is one of the levels (issue 18: no longer a string matched to nothing).
            r = await client.get("/v1/totals", params={"level": attack})
            assert r.status_code == 422 and r.json()["field"] == "query.level", r.text
            r = await client.get("/v1/funding-lines", params={"objective_id": attack, "instrument_id": attack})
            assert (r.status_code, r.json().get("items")) in ((200, []), (422, None)), r.text
            r = await client.post(
                "/v1/funding-events",
                json=commitment(line_id=f"LIG-{i}", reason=attack),
                headers={"Idempotency-Key": attack.replace(" ", "_")},
            )
            assert r.status_code == 202, r.text
            assert (await client.get(f"/v1/funding-lines/LIG-{i}")).json()["history"][0]["reason"] == attack
    lines, entries, events = await counts(database)
    assert lines == entries == events == len(INJECTIONS)  # the tables are there, and whole

    async with partners.client(headers=ADMIN_HEADERS) as client:
        for i, attack in enumerate(INJECTIONS):
            r = await client.post("/v1/partners", json={"partner_id": f"p{i}", "name": attack, "kind": "ASSOCIATION"})
            assert r.status_code == 201, r.text
            assert (await client.get(f"/v1/partners/p{i}")).json()["name"] == attack
            found = (await client.get("/v1/partners", params={"q": attack})).json()["items"]
            assert [p["partner_id"] for p in found] == [f"p{i}"], (attack, found)
        assert len((await client.get("/v1/partners", params={"limit": 500})).json()["items"]) == len(INJECTIONS)
        # A cursor is the client's to send back: one forged with an attack as its key (the
        # listing and filters it names right) is a key bound as a value, or refused.
        for attack in INJECTIONS:
            forged = encode_cursor("partners", {}, [attack, attack, attack])
            r = await client.get("/v1/partners", params={"cursor": forged})
            assert r.status_code in (200, 422), (attack, r.text)
    record("hostile http: SQL injection", inputs=len(INJECTIONS) * 6, requests=len(INJECTIONS) * 9, euros_lost=0)


# --- header injection ----------------------------------------------------------------------

FORGED = [
    "Maria\r\nBcc: thief@evil.example",
    "Maria\nBcc: thief@evil.example",
    "Maria\rX-Forged: 1",
    "Maria\u2028Bcc: thief@evil.example",
    "Maria\u0085Bcc: thief@evil.example",
]


async def test_crlf_in_names_emails_and_titles_is_refused_by_the_apis(partners, objectives, database) -> None:  # type: ignore[no-untyped-def]
    async with partners.client(headers=ADMIN_HEADERS) as client:
        r = await client.post(
            "/v1/partners",
            json={
                "partner_id": "regione-liguria",
                "name": "Regione Liguria",
                "kind": "INSTITUTION",
                "level": "REGIONE",
            },
        )
        assert r.status_code == 201, r.text
        for bad in FORGED[:3]:
            async with unchanged(database):
                for body in (
                    {"name": bad, "email": "maria@example.org"},
                    {"name": "Maria", "email": "maria@example.org\r\nBcc: thief@evil.example"},
                    {"name": "Maria", "email": "maria@example.org\nBcc: thief@evil.example"},
                ):
                    refused(await client.post("/v1/partners/regione-liguria/contacts", json=body), 422)
                refused(
                    await client.post("/v1/partners", json={"partner_id": "p-x", "name": bad, "kind": "ASSOCIATION"}),
                    422,
                )
    async with objectives.client(headers=ADMIN_HEADERS) as client:
        for bad in FORGED[:3]:
            async with unchanged(database):
                refused(await client.post("/v1/objectives", json={"objective_id": "o-x", "title": bad}), 422)


async def test_crlf_reaching_the_notifier_never_forges_an_email_header(broker, notifier, smtp) -> None:  # type: ignore[no-untyped-def]
    """Events are a way in too: a contact name or objective title with line breaks, however
    it got onto the topic, is sent as text in its header, never as a header of its own."""

    def env(payload, key):  # type: ignore[no-untyped-def]
        return Envelope.wrap(payload, key=key, producer="partners")

    directory = [
        env(
            PartnerRegistered(
                partner_id="lig", name="Regione Liguria", kind=PartnerKind.INSTITUTION, level=GovernmentLevel.REGIONE
            ),
            "lig",
        )
    ]
    for i, name in enumerate(FORGED):
        directory.append(
            env(
                ContactAdded(partner_id="lig", contact_id=f"c{i}", name=name, email=f"maria{i}@regione.liguria.it"),
                "lig",
            )
        )
    directory.append(env(ObjectiveLeadAssigned(objective_id="miglio-blu", partner_id="lig"), "miglio-blu"))
    await known_before_its_lead(broker.bootstrap_servers)  # the lead has nothing to be briefed on
    await kafka.publish(broker.bootstrap_servers, topics.PARTNERS, directory)
    async with notifier.client(headers=ADMIN_HEADERS) as admin:

        async def projected() -> bool:
            r = await admin.get("/v1/objectives/miglio-blu/recipients")
            return r.status_code == 200 and len(r.json()["contacts"]) == len(FORGED)

        await eventually(projected, what="the contacts projected")
        change = ObjectiveStatusChanged(
            objective_id="miglio-blu",
            title="Miglio Blu\r\nBcc: thief@evil.example\r\n\r\nforged body",
            fiscal_year=2027,
            previous_status=CoverageStatus.PARTIALLY_FUNDED,
            status=CoverageStatus.AT_RISK,
            coverage_bp=4550,
            need_cents=5_000_000_00,
            committed_cents=2_275_000_00,
            at_risk_threshold_pct=80,
        )
        await kafka.publish_objectives(
            broker.bootstrap_servers,
            [Envelope.wrap(change, key="miglio-blu", producer="objectives")],
        )
        mails = await eventually(lambda: _settled(smtp, len(FORGED)), timeout=30, what=f"{len(FORGED)} e-mails")
    for (_, rcpt_tos), mail in zip(smtp.envelopes, mails, strict=True):
        assert len(rcpt_tos) == 1 and "evil" not in rcpt_tos[0], rcpt_tos
        assert mail["Bcc"] is None and mail["X-Forged"] is None, dict(mail.items())
        assert "\n" not in str(mail["Subject"]) and "\r" not in str(mail["Subject"]), mail["Subject"]
        assert "Miglio Blu" in str(mail["Subject"])
        assert len(mail["To"].addresses) == 1, mail["To"]
        assert "forged body" not in mail.get_body(("plain",)).get_content().split("\n")[0]
    record("hostile http: header injection into e-mail", inputs=len(FORGED) + 1, alerts_duplicated=0)


async def _settled(smtp, count: int):  # type: ignore[no-untyped-def]
    messages = smtp.messages
    return messages if len(messages) >= count else None
