"""Regia itself under load: the inbound topic to published coverage, HTTP ingestion,
funding-to-alert propagation at steady rates, a long steady load (the soak) and the
coverage rebuild. Each load section also says what its events cost in CPU, per process."""

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable, Coroutine
from functools import partial
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from regia_shared.contracts import topics
from regia_shared.writes import reason_header

from . import statements
from .cpu import per_event_ms
from .harness import BENCH_REASON, Stack
from .hops import hops
from .http_load import LoadClients, LoadError
from .limits import command, headers
from .open_loop import percentile, run_schedule, summarise

YEAR = 2027
NEED = 10_000_000_000_00  # an objective-year need no benchmark stream fills
REVISE_EVERY = 5


async def eventually(probe: Callable[[], Awaitable[Any]], *, timeout: float, what: str, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await probe()
        if value:
            return value
        await asyncio.sleep(interval)
    raise RuntimeError(f"benchmark: {what} not reached within {timeout:.0f}s")


async def gather_limited(limit: int, jobs: list[Callable[[], Awaitable[Any]]]) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await job()

    return await asyncio.gather(*(one(j) for j in jobs))


class Regia:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.key = ""

    def url(self, name: str) -> str:
        return self.stack.services[name].url

    async def load_starts(self) -> dict[str, float]:
        """The CPU meter's snapshot where a measured load starts, and with `--statements`
        PostgreSQL's counters reset there: both then cover the same window (`charged`)."""
        if self.stack.count_statements:
            await statements.reset(self.stack.dsn)
        return self.stack.cpu.snapshot()

    async def charged(self, start: dict[str, float], events: int) -> dict:
        """What `events` cost in CPU, per process and in all (`total`), since the snapshot
        `start`, once the work trailing them is done too (the notifier and partners reading
        what objectives published, the outboxes draining): waiting for the processes to go
        quiet charges that work to the events that caused it rather than to what comes next.
        With `--statements`, also what PostgreSQL ran for them (regia.bench.statements)."""
        waiting = time.perf_counter()
        settled = await self.stack.cpu.settled()
        spent = self.stack.cpu.since(start)
        counted = {"statements": await statements.census(self.stack.dsn, events)} if self.stack.count_statements else {}
        return {
            "cpu_ms_per_event": per_event_ms(spent, events),
            "cpu_seconds": {name: round(seconds, 2) for name, seconds in spent.items()},
            "cpu_settled": settled,
            "cpu_settle_seconds": round(time.perf_counter() - waiting, 1),  # until quiet again
            **counted,
        }

    async def analyzed(self) -> None:
        """ANALYZE every table before a phase. A phase starts on tables the one
        before it has just grown several-fold (the batch phase's 10,000 lines after the single
        one's), and whether autovacuum had analyzed them by then decided PostgreSQL's plans:
        the same code measured PostgreSQL at 0.14 or 0.27 ms of CPU an event from run to run.
        A production table grows slowly against its size, so the figure is taken on fresh
        statistics: it measures the code, not autovacuum's timing."""
        await self.scalar("public", "ANALYZE")  # every table of the database, whatever its schema

    async def scalar(self, schema: str, sql: str, *args: object) -> Any:
        conn = await asyncpg.connect(self.stack.dsn, server_settings={"search_path": schema})
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()

    async def check(self, r: httpx.Response, *ok: int) -> dict:
        if r.status_code not in ok:
            raise RuntimeError(f"benchmark: {r.request.method} {r.request.url} -> {r.status_code} {r.text[:300]}")
        return r.json()

    async def define_objectives(self, ids: list[str], threshold: int = 80, need: int = NEED) -> None:
        async with httpx.AsyncClient(
            base_url=self.url("objectives"), headers=self.stack.admin_headers, timeout=60
        ) as admin:

            async def define(objective_id: str) -> None:
                await self.check(
                    await admin.post(
                        "/v1/objectives",
                        json={
                            "objective_id": objective_id,
                            "title": f"Objective {objective_id}",
                            "at_risk_threshold_pct": threshold,
                            "needs": [{"fiscal_year": YEAR, "need_cents": need}],
                        },
                    ),
                    200,
                    201,
                )

            await gather_limited(16, [partial(define, o) for o in ids])
        # funding refuses money for an objective it has not learned of from objectives' events
        await eventually(
            lambda: self._known(ids), timeout=120 + len(ids) / 50, what=f"funding learned {len(ids)} objectives"
        )

    async def _known(self, ids: list[str]) -> bool:
        found = await self.scalar(
            "funding", "SELECT count(*) FROM known_objectives WHERE objective_id = ANY($1::text[])", ids
        )
        return found == len(ids)

    async def prepare(self) -> None:
        """The institution (through partners), its instrument and an API key."""
        async with httpx.AsyncClient(headers=self.stack.admin_headers, timeout=30) as admin:
            await self.check(
                await admin.post(
                    f"{self.url('partners')}/v1/partners",
                    json={
                        "partner_id": "regione-liguria",
                        "name": "Regione Liguria",
                        "kind": "INSTITUTION",
                        "level": "REGIONE",
                    },
                ),
                201,
            )

            async def institution_known() -> bool:
                listed = (await admin.get(f"{self.url('funding')}/v1/institutions")).json()
                return any(i["institution_id"] == "regione-liguria" for i in listed)

            await eventually(institution_known, timeout=60, what="funding learned the institution")
            await self.check(
                await admin.post(
                    f"{self.url('funding')}/v1/instruments",
                    json={
                        "instrument_id": "por-fesr-liguria",
                        "institution_id": "regione-liguria",
                        "name": "POR FESR Liguria",
                        "kind": "programme",
                    },
                ),
                201,
            )
            body = await self.check(
                await admin.post(f"{self.url('funding')}/v1/institutions/regione-liguria/keys"), 201
            )
            self.key = body["key"]

    async def end_to_end(self, events: int, objectives: int) -> dict:
        """Funding commands on regia.funding.inbound.v1 until the coverage they move is
        computed and its events are on regia.objectives.v1."""
        stream: list[dict] = []
        final: dict[str, int] = {}
        for i in range(events):
            if i % REVISE_EVERY == REVISE_EVERY - 1:  # every fifth revises the line 4 events before
                line = stream[i - (REVISE_EVERY - 1)]["line_id"]
                stream.append(
                    {
                        "type": "revision",
                        "line_id": line,
                        "committed_cents": (i * 7919 % 50_000 + 1) * 100,
                        "reason": f"DGR {i}/2026",
                    }
                )
            else:
                stream.append(command(i, objectives))
                line = stream[-1]["line_id"]
            final[line] = stream[-1]["committed_cents"]
        messages = [
            (json.dumps(c).encode(), headers(i, self.key, "e2e"), c["line_id"].encode()) for i, c in enumerate(stream)
        ]

        seen = {"coverage_events": 0, "last": 0.0}
        consumer = AIOKafkaConsumer(
            topics.OBJECTIVES_COVERAGE,
            bootstrap_servers=self.stack.bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
        )
        await consumer.start()
        stop = asyncio.Event()

        async def watch() -> None:
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=200, max_records=5000)
                for records in batch.values():
                    for record in records:
                        # Read from the headers the outbox relay sets, not by parsing every
                        # event: this watcher shares the cores with what it measures.
                        found = dict(record.headers or ())
                        if found.get("type") == b"ObjectiveCoverageChanged" and found.get(
                            "correlation_id", b""
                        ).startswith(b"e2e-"):
                            seen["coverage_events"] += 1
                            seen["last"] = time.perf_counter()

        watcher = asyncio.create_task(watch())
        producer = AIOKafkaProducer(
            bootstrap_servers=self.stack.bootstrap,
            enable_idempotence=False,
            acks="all",
            linger_ms=10,
            max_batch_size=512 * 1024,
        )
        await producer.start()
        try:
            cpu_from = await self.load_starts()  # the stream is built: from here on it is load
            started = time.perf_counter()
            futures = [
                await producer.send(topics.FUNDING_INBOUND, value, key=key, headers=hs) for value, hs, key in messages
            ]
            await asyncio.gather(*futures)
            produced = time.perf_counter()
            await producer.stop()

            # Caught up: every inbound command recorded and every funding event applied
            # (their consumer groups have committed the topics' last offsets: offsets are
            # committed after the batch's transaction) and both outboxes drained. Read from
            # the broker, not by counting inbox rows: counting 100,000 of them four times a
            # second cost PostgreSQL a tenth of its CPU in this phase, charged to Regia.
            offsets = AIOKafkaAdminClient(bootstrap_servers=self.stack.bootstrap)
            await offsets.start()

            async def caught_up() -> bool:
                for group, topic in (
                    ("funding.inbound", topics.FUNDING_INBOUND),
                    ("objectives", topics.FUNDING),
                ):
                    if not await _group_at_end(offsets, consumer, group, topic, self.stack.partitions):
                        return False
                for service in ("funding", "objectives"):  # the unpublished rows, off a partial index
                    if await self.scalar(service, "SELECT count(*) FROM outbox WHERE published_at IS NULL"):
                        return False
                return True

            try:
                await eventually(
                    caught_up,
                    timeout=max(300, events / 20),
                    what=f"{events} events applied and published",
                    interval=0.25,
                )
            finally:
                await offsets.close()
            caught = time.perf_counter()
            # the last coverage events are on the topic once the outbox is drained; let them arrive
            quiet_since = time.perf_counter()
            count = seen["coverage_events"]
            while time.perf_counter() - quiet_since < 1.0:
                await asyncio.sleep(0.1)
                if seen["coverage_events"] != count:
                    count, quiet_since = seen["coverage_events"], time.perf_counter()
            cpu = await self.charged(cpu_from, events)
        finally:
            stop.set()
            await watcher
            await consumer.stop()
        finished = max(seen["last"], caught) if seen["last"] else caught
        committed = await self.scalar(
            "objectives",
            "SELECT coalesce(sum(committed_cents), 0) FROM coverage"
            " WHERE fiscal_year = $1 AND objective_id LIKE 'obj-%'",
            YEAR,
        )
        ledger = await self.scalar("funding", "SELECT count(*) FROM ledger_entries WHERE line_id LIKE 'BENCH-%'")
        took = finished - started
        return {
            "events": events,
            "objectives": objectives,
            "events_per_s": round(events / took, 1),
            "seconds": round(took, 3),
            "produce_seconds": round(produced - started, 3),
            "applied_seconds": round(caught - started, 3),
            "coverage_events_seen": seen["coverage_events"],
            "ledger_entries": ledger,
            "coverage_exact": committed == sum(final.values()),
            **cpu,
            "measured": "first produce on regia.funding.inbound.v1 to the last ObjectiveCoverageChanged"
            " on regia.objectives.coverage.v1 (projection caught up, outbox drained); cpu_ms_per_event: each"
            " process's CPU from the first produce until every process is quiet again, per event",
        }

    def _funding_clients(self, count: int, timeout: float = 60) -> LoadClients:
        return LoadClients(
            count,
            base_url=self.url("funding"),
            timeout=timeout,
            headers={"Authorization": f"Bearer {self.key}", **reason_header(BENCH_REASON)},
        )

    async def http(
        self,
        requests: int,
        batches: int,
        batch_size: int,
        concurrency: int,
        objectives: int,
        rate: float,
        rate_seconds: float,
        rate_clients: int,
    ) -> dict:
        """`single` and `batch`: closed loop, `concurrency` clients each sending its next
        request when the last is answered. `single_at_rate`: single events started on a fixed
        schedule of `rate` a second for `rate_seconds`, each timed from its scheduled start,
        over at most `rate_clients` connections (how many were needed is reported)."""
        results: dict[str, dict] = {}
        async with self._funding_clients(concurrency) as client:
            for row, count, size in (("single", requests, 1), ("batch", batches, batch_size)):
                latencies: list[float] = []
                failures = 0

                async def send(n: int, row: str = row, size: int = size, latencies: list[float] = latencies) -> None:
                    nonlocal failures
                    base = 10_000_000 * (1 if row == "single" else 2) + n * size
                    bodies = [command(base + j, objectives) | {"line_id": f"HTTP-{base + j}"} for j in range(size)]
                    began = time.perf_counter()
                    try:
                        if row == "single":
                            r = await client.post(
                                "/v1/funding-events", json=bodies[0], headers={"Idempotency-Key": f"http-{row}-{n}"}
                            )
                        else:
                            r = await client.post(
                                "/v1/funding-events/batch",
                                json={"events": bodies},
                                headers={"Idempotency-Key": f"http-{row}-{n}"},
                            )
                    except LoadError as exc:  # counted, not fatal: the figure says how many
                        failures += 1
                        if failures == 1:
                            print(f"benchmark: {row} ingestion failed: {exc!r}")
                        return
                    latencies.append(time.perf_counter() - began)
                    if r.status_code not in (200, 201, 202):
                        failures += 1
                        if failures == 1:
                            print(f"benchmark: {row} ingestion answered {r.status_code}: {r.text[:300]}")

                await self.analyzed()
                cpu_from = await self.load_starts()
                started = time.perf_counter()
                await gather_limited(concurrency, [partial(send, n) for n in range(count)])
                took = time.perf_counter() - started
                results[row] = {
                    "requests": count,
                    "events_per_request": size,
                    "concurrency": concurrency,
                    "events_per_s": round(count * size / took, 1),
                    "requests_per_s": round(count / took, 1),
                    "p50_ms": round(percentile(latencies, 50) * 1000, 1),
                    "p99_ms": round(percentile(latencies, 99) * 1000, 1),
                    "failures": failures,
                    "seconds": round(took, 3),
                    **await self.charged(cpu_from, count * size),
                }
        results["single_at_rate"] = await self.single_at_rate(rate, rate_seconds, rate_clients, objectives)
        return results

    async def single_at_rate(self, rate: float, seconds: float, clients: int, objectives: int) -> dict:
        """Single funding events on an open-loop schedule (regia/bench/open_loop.py)."""
        total = max(1, int(rate * seconds))
        await self.analyzed()
        async with self._funding_clients(clients) as client:
            refusals: list[str] = []

            async def send(n: int) -> bool:
                base = 30_000_000 + n
                body = command(base, objectives) | {"line_id": f"HTTP-{base}"}
                try:
                    r = await client.post(
                        "/v1/funding-events", json=body, headers={"Idempotency-Key": f"http-rate-{n}"}
                    )
                except LoadError as exc:
                    refusals.append(repr(exc))
                    return False
                if r.status_code not in (200, 201, 202):
                    refusals.append(f"{r.status_code} {r.text[:300]}")
                    return False
                return True

            cpu_from = await self.load_starts()
            timings = await run_schedule(rate, total, send)
            found = summarise(rate, timings, client.waited)
            found |= {
                "events_per_request": 1,
                "clients": clients,
                "peak_in_flight": client.peak_lent,
                "waited_for_client": client.waited,
            }
        if refusals:
            print(f"benchmark: single ingestion at {rate:g}/s: {len(refusals)} failed, first: {refusals[0]}")
        return found | {
            **await self.charged(cpu_from, total),
            "measured": "each request's latency from its scheduled start (start + i / rate), so time spent"
            " queued behind slower answers counts; peak_in_flight: connections busy at once (opened as"
            " needed, at most `clients`); schedule_kept: requests started at >= 95 % of the rate and none"
            " waited for a connection",
        }

    async def propagation(self, rates: tuple[float, ...], seconds: float, objectives: int) -> dict:
        """Funding events at steady rates over HTTP (each rate for `seconds`, one after the
        other), each flipping an objective's status (FUNDED <-> AT_RISK), each status change
        an e-mail to the objective's lead. The first rate's result at the top level (as
        before there were several), every rate's under `at_rates`, keyed by the rate."""
        ids = [f"alert-{k}" for k in range(objectives)]
        need = 1_000_000_00
        await self.define_objectives(ids, threshold=80, need=need)
        async with httpx.AsyncClient(headers=self.stack.admin_headers, timeout=60) as admin:
            partners = self.url("partners")
            await self.check(
                await admin.post(
                    f"{partners}/v1/partners",
                    json={
                        "partner_id": "comune-bench",
                        "name": "Comune di Bench",
                        "kind": "INSTITUTION",
                        "level": "COMUNE",
                    },
                ),
                201,
            )
            await self.check(
                await admin.post(
                    f"{partners}/v1/partners/comune-bench/contacts",
                    json={"name": "Ufficio Piano", "email": "piano@comune.bench.it", "language": "it"},
                ),
                201,
            )

            async def lead(objective_id: str) -> None:
                # Partners puts a lead only on an objective it has learnt from the
                # objectives' events, a moment after it was defined: wait for that.
                deadline = time.monotonic() + 60
                while (await admin.get(f"{partners}/v1/objectives/{objective_id}")).status_code != 200:
                    if time.monotonic() > deadline:
                        raise LoadError(f"the partners service never learnt objective {objective_id!r}")
                    await asyncio.sleep(0.2)
                await self.check(
                    await admin.put(
                        f"{partners}/v1/objectives/{objective_id}/lead", json={"partner_id": "comune-bench"}
                    ),
                    200,
                )

            await gather_limited(8, [partial(lead, o) for o in ids])

        async def notifier_knows() -> bool:  # alerts are planned when the event comes, with whoever is known
            leads = await self.scalar(
                "notifier", "SELECT count(*) FROM objective_leads WHERE partner_id = 'comune-bench'"
            )
            contacts = await self.scalar("notifier", "SELECT count(*) FROM contacts WHERE partner_id = 'comune-bench'")
            return leads == objectives and contacts == 1

        await eventually(notifier_knows, timeout=120, what="the notifier learned the leads and their contact")
        async with self._funding_clients(128, timeout=30) as client:
            failures: list[str] = []

            async def post(body: dict, idem: str) -> None:
                try:
                    r = await client.post("/v1/funding-events", json=body, headers={"Idempotency-Key": idem})
                except LoadError as exc:
                    failures.append(repr(exc))
                    return
                if r.status_code != 202:
                    failures.append(f"{r.status_code} {r.text[:200]}")

            # Warm-up: each objective funded once; its lead hears of it (and the notifier
            # has learned the objective and its lead before the timed part starts).
            warm = self.stack.mail_sink.count
            await gather_limited(
                32,
                [
                    partial(
                        post,
                        {
                            "type": "commitment",
                            "line_id": f"ALERT-{k}",
                            "objective_id": ids[k],
                            "instrument_id": "por-fesr-liguria",
                            "fiscal_year": YEAR,
                            "committed_cents": need,
                            "reason": "warm-up",
                        },
                        f"alert-warm-{k}",
                    )
                    for k in range(objectives)
                ],
            )

            async def warmed() -> bool:
                return self.stack.mail_sink.count > warm and await self._drained(objectives, None)

            await eventually(warmed, timeout=120, what=f"{objectives} warm-up alerts delivered")
            await self.stack.cpu.settled()
            at_rates: dict[str, dict] = {}
            sent_before = 0  # revisions of the rates before: line k's next one continues its flips
            for rate in rates:
                found = await self._propagate_at(post, failures, rate, seconds, objectives, need, sent_before)
                sent_before += found["events"]
                at_rates[f"{rate:g}"] = found
        # Each rate's alerts are told apart by their chains' origin (when funding accepted
        # the event): a rate starts once the one before is delivered and every process is
        # quiet, so the origins of one rate's alerts all fall before the next rate's start.
        bounds = [found.pop("timed_from") for found in at_rates.values()] + [None]
        conn = await asyncpg.connect(self.stack.dsn)
        try:
            for found, since, until in zip(at_rates.values(), bounds, bounds[1:], strict=False):
                latencies = await self._alert_latencies(since, until)
                found |= {
                    "alerts_delivered": len(latencies),
                    "p50_s": round(percentile(latencies, 50), 3) if latencies else None,
                    "p99_s": round(percentile(latencies, 99), 3) if latencies else None,
                    "hops": await hops(conn, since, until),
                }
        finally:
            await conn.close()
        first = next(iter(at_rates.values()))
        return first | {
            "at_rates": at_rates,
            "measured": "each alert's funding event acceptance (its chain's origin_at) to the SMTP server"
            " accepting the e-mail that carried it, read from the notifier's records; the grouping window"
            " is 0 in the benchmark (a policy, not a delay), so one e-mail carries the alerts queued since"
            " the last. histogram_p99_s: regia_funding_to_alert_seconds, one sample per e-mail (its oldest"
            " alert). cpu_ms_per_event: per revision, from the first sent until every process is quiet",
        }

    async def _propagate_at(
        self,
        post: Callable[[dict, str], Coroutine[Any, Any, None]],
        failures: list[str],
        rate: float,
        seconds: float,
        objectives: int,
        need: int,
        sent_before: int,
    ) -> dict:
        """One rate of the propagation section: revisions on schedule, then every alert delivered."""
        failed_before = len(failures)
        # On fresh statistics, as each HTTP phase (`analyzed`): the warm-up, and the rate
        # before, grew the notifier's alert queue and funding's keys several-fold on tables
        # that began empty, and the plans each connection had cached on the small tables
        # kept scanning them whole (auto_explain: 246 sequential scans of waiting_alerts of
        # over 4 ms each in a 30-second rate) until autovacuum's next ANALYZE, which came
        # in the middle of the next rate and so flattered it.
        await self.analyzed()
        await self.stack.cpu.settled()
        before = await self._histogram()
        timed_from = await self.scalar("notifier", "SELECT now()")
        mails_before = self.stack.mail_sink.count
        total = int(rate * seconds)
        sent: list[asyncio.Task] = []
        cpu_from = await self.load_starts()
        started = time.perf_counter()
        for i in range(total):
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            n = sent_before + i
            k, flip = n % objectives, n // objectives
            amount = need // 2 if flip % 2 == 0 else need  # AT_RISK, FUNDED, AT_RISK, ...
            sent.append(
                asyncio.create_task(
                    post(
                        {
                            "type": "revision",
                            "line_id": f"ALERT-{k}",
                            "committed_cents": amount,
                            "reason": f"revision {flip}",
                        },
                        f"alert-{n}",
                    )
                )
            )
        await asyncio.gather(*sent)
        sending = time.perf_counter() - started

        async def delivered() -> bool:
            return await self._drained(total, timed_from)

        try:
            await eventually(delivered, timeout=120, what=f"{total} alerts delivered", interval=0.25)
        except RuntimeError as exc:
            print(exc)
        cpu = await self.charged(cpu_from, total)
        after = await self._histogram()
        observed = {b: after.get(b, 0) - before.get(b, 0) for b in after}
        return {
            "rate_per_s": rate,
            "events": total,
            "failures": len(failures) - failed_before,
            # what the first few said, so that a failure is read, not only counted
            "failure_examples": sorted(set(failures[failed_before:]))[:5],
            "achieved_rate_per_s": round(total / sending, 1),
            "objectives": objectives,
            "messages": self.stack.mail_sink.count - mails_before,
            "histogram_p99_s": round(_quantile(observed, 0.99), 3),
            **cpu,
            "timed_from": timed_from,
        }

    async def _drained(self, alerts: int, since: Any) -> bool:
        """At least `alerts` alerts whose chains began since `since` (None: ever), none left
        waiting and every e-mail sent: the notifier has nothing more to do."""
        conn = await asyncpg.connect(self.stack.dsn, server_settings={"search_path": "notifier"})
        try:
            queued = await conn.fetchval(
                "SELECT count(*) FROM waiting_alerts WHERE $1::timestamptz IS NULL OR origin_at >= $1", since
            )
            waiting = await conn.fetchval("SELECT count(*) FROM waiting_alerts WHERE message_id IS NULL")
            unsent = await conn.fetchval("SELECT count(*) FROM deliveries WHERE status IN ('PENDING', 'SENDING')")
        finally:
            await conn.close()
        return queued >= alerts and waiting == 0 and unsent == 0

    async def _alert_latencies(self, since: Any, until: Any = None) -> list[float]:
        """Seconds from each alert's origin to the SMTP server accepting the e-mail that
        carried it, for the alerts whose chains began in [since, until) (until None: open)."""
        conn = await asyncpg.connect(self.stack.dsn, server_settings={"search_path": "notifier"})
        try:
            rows = await conn.fetch(
                "SELECT extract(epoch FROM a.at + make_interval(secs => a.duration_ms / 1000.0) - w.origin_at) AS s"
                " FROM waiting_alerts w JOIN delivery_attempts a ON a.delivery_id = w.message_id AND a.outcome = 'SENT'"
                " WHERE w.origin_at >= $1 AND ($2::timestamptz IS NULL OR w.origin_at < $2)",
                since,
                until,
            )
        finally:
            await conn.close()
        return sorted(float(r["s"]) for r in rows)

    async def _histogram(self) -> dict[float, float]:
        async with httpx.AsyncClient(timeout=30) as client:
            text = (await client.get(f"{self.url('notifier')}/metrics")).text
        buckets: dict[float, float] = {}
        for match in re.finditer(r"^regia_funding_to_alert_seconds_bucket\{([^}]*)\} (\S+)$", text, re.M):
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
            if labels.get("channel") != "email":
                continue
            le = float("inf") if labels["le"] == "+Inf" else float(labels["le"])
            buckets[le] = buckets.get(le, 0) + float(match.group(2))
        return buckets

    async def soak(self, rate: float, seconds: float, objectives: int) -> dict:
        """Funding events over HTTP on a steady schedule of `rate` a second for `seconds`, mixed
        as the end-to-end stream mixes them (four new lines over the objectives, then a
        revision), so the services' memory can be watched under a long load: the RSS samples
        of this section's load are tagged `soak` (its drain `soak: drain`)."""
        total = max(1, int(rate * seconds))
        async with self._funding_clients(128) as client:
            refusals: list[str] = []
            # A revision needs its line recorded: sent on a schedule, it could overtake the
            # commitment sent just before it, so it revises a line already accepted, a
            # different one each time while there are enough.
            accepted: list[str] = []

            async def send(i: int) -> bool:
                body: dict[str, Any]
                if i % REVISE_EVERY == REVISE_EVERY - 1 and accepted:
                    body = {
                        "type": "revision",
                        "line_id": accepted[(i // REVISE_EVERY) % len(accepted)],
                        "committed_cents": (i * 7919 % 50_000 + 1) * 100,
                        "reason": f"DGR {i}/2026",
                    }
                else:
                    body = command(i, objectives) | {"line_id": f"SOAK-{i}"}
                try:
                    r = await client.post("/v1/funding-events", json=body, headers={"Idempotency-Key": f"soak-{i}"})
                except LoadError as exc:
                    refusals.append(repr(exc))
                    return False
                if r.status_code != 202:
                    refusals.append(f"{r.status_code} {r.text[:300]}")
                    return False
                if body["type"] == "commitment":
                    accepted.append(body["line_id"])
                return True

            cpu_from = await self.load_starts()
            timings = await run_schedule(rate, total, send)
            self.stack.rss.phase = "soak: drain"  # what memory does under the load is judged on the load alone
            found = summarise(rate, timings, client.waited)
            found |= {"clients": client.size, "peak_in_flight": client.peak_lent, "waited_for_client": client.waited}
        if refusals:
            print(f"benchmark: soak: {len(refusals)} events failed, first: {refusals[0]}")
        return {
            "events": total,
            "objectives": objectives,
            **found,
            "seconds": seconds,  # the run asked for; took_seconds: first scheduled to last answered
            "took_seconds": found.get("seconds", 0.0),
            **await self.charged(cpu_from, total),
            "measured": "funding events over HTTP on a fixed schedule (latency from each one's scheduled"
            " start); memory: each service's RSS during the load, judged flat when the last third's peak"
            " is within 15 % of the first third's",
        }

    async def rebuild(self, entries: int, objectives: int) -> dict:
        """Fill line_allocations to `entries` lines, then rebuild coverage from scratch."""
        conn = await asyncpg.connect(self.stack.dsn, server_settings={"search_path": "objectives"})
        try:
            held = await conn.fetchval("SELECT count(*) FROM line_allocations")
            missing = max(0, entries - held)
            seeded = time.perf_counter()
            for at in range(0, missing, 100_000):
                rows = [
                    (
                        f"SEED-{i}",
                        f"obj-{i % objectives}",
                        YEAR,
                        "REGIONE",
                        "regione-liguria",
                        (i * 7919 % 50_000 + 1) * 100,
                        0,
                        1,
                    )
                    for i in range(at, min(missing, at + 100_000))
                ]
                await conn.copy_records_to_table(
                    "line_allocations",
                    records=rows,
                    columns=[
                        "line_id",
                        "objective_id",
                        "fiscal_year",
                        "level",
                        "institution_id",
                        "committed_cents",
                        "disbursed_cents",
                        "line_version",
                    ],
                )
            await conn.execute("ANALYZE line_allocations")
            seeding = time.perf_counter() - seeded
            expected = await conn.fetchval(
                "SELECT sum(committed_cents) FROM line_allocations"
                " WHERE objective_id LIKE 'obj-%' AND fiscal_year = $1",
                YEAR,
            )
        finally:
            await conn.close()
        async with httpx.AsyncClient(headers=self.stack.admin_headers, timeout=3600) as admin:
            started = time.perf_counter()
            body = await self.check(
                await admin.post(
                    f"{self.url('objectives')}/v1/admin/rebuild/coverage", params={"from_scratch": "true"}
                ),
                200,
            )
            took = time.perf_counter() - started
        committed = await self.scalar(
            "objectives",
            "SELECT coalesce(sum(committed_cents), 0) FROM coverage"
            " WHERE objective_id LIKE 'obj-%' AND fiscal_year = $1",
            YEAR,
        )
        return {
            "lines": body["lines"],
            "objective_years": body["objective_years"],
            "events_published": body["events_published"],
            "seconds": round(took, 3),
            "lines_per_s": round(body["lines"] / took),
            "seeding_seconds": round(seeding, 3),
            "coverage_exact": committed == expected,
            "measured": "POST /v1/admin/rebuild/coverage?from_scratch=true on line_allocations holding"
            " one row per ledger entry (every entry its own line, the worst case)",
        }


def _quantile(buckets: dict[float, float], q: float) -> float:
    """Prometheus' histogram_quantile: linear inside the bucket the rank falls in."""
    bounds = sorted(buckets)
    total = buckets.get(float("inf"), 0)
    if total <= 0:
        return 0.0
    rank = q * total
    lower, below = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if bound == float("inf"):
                return lower
            inside = count - below
            return lower + (bound - lower) * ((rank - below) / inside if inside else 0)
        lower, below = bound, count
    return lower


async def _group_at_end(
    admin: AIOKafkaAdminClient, reader: AIOKafkaConsumer, group: str, topic: str, partitions: int
) -> bool:
    """Whether the consumer group has committed every partition of the topic up to its end."""
    ends = await reader.end_offsets([TopicPartition(topic, p) for p in range(partitions)])
    committed = await admin.list_consumer_group_offsets(group, partitions=list(ends))
    return all(end == 0 or ((at := committed.get(tp)) is not None and at.offset >= end) for tp, end in ends.items())
