"""The lifecycle every service shares, used by each service's composition root.

On start: connect the pool (confined to the service's schema), migrate, make sure the
topics it touches exist, start the broker (its subscribers join their consumer groups),
and start the outbox relay. On stop, the reverse. The FastAPI lifespan drives it, so one
process serves HTTP, consumes and relays.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiokafka.errors import KafkaError
from fastapi import Depends, FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry, Counter, Gauge

from regia_shared.contracts import topics
from regia_shared.db import create_pool, migrate
from regia_shared.http.access import check_access_policy
from regia_shared.http.apidocs import api_docs_router
from regia_shared.http.audit import install_audit
from regia_shared.http.errors import install_error_handlers
from regia_shared.http.limits import install_request_limits
from regia_shared.http.openapi import install_openapi
from regia_shared.http.ops import instrument_http, ops_router
from regia_shared.http.ops_dead_letters import dead_letters_router
from regia_shared.http.outbox_replay import ensure_with, outbox_replay_router
from regia_shared.http.query_params import refuse_unknown_query_parameters
from regia_shared.messaging import consumer, group_offsets, signing
from regia_shared.messaging.kafka import OutboxProducer, TopicPolicy, ensure_topics, make_broker
from regia_shared.messaging.outbox import OutboxRelay, OutboxRow, Publish, backlog
from regia_shared.messaging.security import KafkaSecurity
from regia_shared.observability import gc_tuning
from regia_shared.observability.logs import configure_logging, get_logger
from regia_shared.observability.metrics_refresh import GaugeRefresh, refresh_forever
from regia_shared.observability.metrics_runtime import PlumbingMetrics
from regia_shared.settings import ServiceSettings

log = get_logger(__name__)

# Answers at least this big are gzip'd for a client that accepts it: below, the header and
# the CPU cost more than the bytes saved.
GZIP_MINIMUM_BYTES = 1024


@dataclass
class ServiceRuntime:
    name: str
    settings: ServiceSettings
    migrations_package: str
    publishes: Sequence[str] = ()
    consumes: Sequence[str] = ()
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    background: list[Callable[["ServiceRuntime"], Coroutine[Any, Any, None]]] = field(default_factory=list)
    # Run once after migrations and before anything is served or consumed.
    startup: list[Callable[["ServiceRuntime"], Awaitable[None]]] = field(default_factory=list)
    # Gauges read from the database, refreshed every REGIA_METRICS_REFRESH_S (metrics_refresh).
    gauges: list[GaugeRefresh] = field(default_factory=list)
    broker: KafkaBroker = field(init=False)
    topics_needed: list[str] = field(default_factory=list, init=False)
    _pool: asyncpg.Pool | None = field(default=None, init=False)
    _outbox_producer: OutboxProducer | None = field(default=None, init=False)
    _tasks: list[asyncio.Task] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        # Checked first: incomplete SASL_SSL settings stop the service here, naming the
        # variable, before any client is built (regia_shared.messaging.security).
        self.kafka_security = KafkaSecurity.of(self.settings)
        self.broker = make_broker(self.settings, self.name, self.registry, self.kafka_security)
        # The keys that sign what this service publishes and verify what it consumes: the
        # shared consumer and the dead-letter replay find them through the broker.
        self.event_keys = self.settings.event_keys
        signing.register(self.broker, self.event_keys)
        self._backlog = Gauge(
            "regia_outbox_backlog_events", "Unpublished outbox rows", ["service"], registry=self.registry
        )
        self._backlog_age = Gauge(
            "regia_outbox_oldest_age_seconds",
            "Age of the oldest unpublished outbox row",
            ["service"],
            registry=self.registry,
        )
        self._published = Counter(
            "regia_outbox_published_events_total",
            "Events the outbox relay published",
            ["service"],
            registry=self.registry,
        )
        self.metrics = PlumbingMetrics(
            self.registry, self.name, self.broker, self.settings.kafka_bootstrap_servers, self.kafka_security
        )
        self.gauges.insert(0, self.metrics.refresh_dead_letters)

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the service is not started")
        return self._pool

    def check_event_keys(self) -> None:
        """Refuse to start without a key this service needs: publishing unsigned events
        would have every consumer refuse them, and consuming without the owners' keys would
        dead-letter every event, both quietly. Says which keys are missing, never a secret."""
        lacking = self.event_keys.missing(self.name, self.publishes, self.consumes)
        if lacking:
            message = (
                f"{self.name} cannot start: {signing.VARIABLE} lacks {'; '.join(lacking)}"
                " (see docs/operations.md, 'Event signing keys')"
            )
            log.error("event signing keys missing", service=self.name, missing=lacking)
            raise signing.MissingEventKeys(message)

    async def start(self) -> None:
        self.check_event_keys()  # before anything is connected, consumed or published
        s = self.settings
        dsn = s.database_url.get_secret_value()
        self._pool = await create_pool(dsn, self.name, min_size=s.db_pool_min, max_size=s.db_pool_max)
        await migrate(self._pool, self.name, self.migrations_package)
        for hook in self.startup:
            await hook(self)
        # Each consumer's dead letters have a topic of its own, named after it.
        dead_letters = [topics.dead_letter(c) for c in consumer.consumer_names(self.broker)]
        needed = list(dict.fromkeys([*self.publishes, *self.consumes, *dead_letters]))
        self.topics_needed = needed  # also what an outbox replay re-creates (outbox_replay)
        await ensure_topics(s.kafka_bootstrap_servers, needed, TopicPolicy.of(s), self.kafka_security)
        await self._carry_offsets_over()
        await self._start_broker()
        self._outbox_producer = OutboxProducer(
            s.kafka_bootstrap_servers,
            idempotence=s.kafka_idempotence,
            client_id=f"regia-{self.name}-outbox",
            security=self.kafka_security,
            sign=lambda topic, key, value: self.event_keys.headers_for(self.name, topic, key, value),
        )
        await self._outbox_producer.start()
        relay = OutboxRelay(
            dsn,
            self.name,
            self._publish_counted(self._outbox_producer.publish),
            batch_size=s.outbox_batch_size,
            poll_interval_s=s.outbox_poll_interval_s,
        )
        self._spawn(relay.run(), "outbox-relay")
        self._spawn(self._watch_backlog(), "outbox-backlog")
        self._spawn(
            refresh_forever(lambda: self.pool, self.gauges, [self.metrics.lag.refresh], s.metrics_refresh_s),
            "metrics-refresh",
        )
        for job in self.background:
            self._spawn(job(self), job.__name__)
        gc_tuning.tune(s.gc_gen0_threshold)
        log.info("service started", service=self.name)

    async def _carry_offsets_over(self) -> None:
        """Each group that carries consumers which were groups of their own in an earlier
        release (their names) starts where they had got to (`group_offsets`)."""
        for group, subscriptions in consumer.groups_of(self.broker).items():
            earlier: dict[str, list[str]] = {}
            for sub in subscriptions:
                if sub.consumer != group:
                    earlier.setdefault(sub.topic, []).append(sub.consumer)
            if not earlier:
                continue
            try:
                await group_offsets.carry_over(
                    self.settings.kafka_bootstrap_servers, group, earlier, self.kafka_security
                )
            except KafkaError as exc:
                # Most likely the broker's ACLs: the earlier groups' offsets need Describe.
                groups = sorted(c for cs in earlier.values() for c in cs)
                raise RuntimeError(
                    f"{self.name} cannot read where its earlier consumer groups ({', '.join(groups)}) had got to,"
                    f" to start its group {group} there: {exc!r}. Apply deploy/kafka/acls.txt (docs/operations.md,"
                    " 'Upgrading to one consumer group per service')."
                ) from exc

    async def _start_broker(self) -> None:
        """faststream's `broker.start()` starts the subscribers one after the other, and each
        one's start waits for its consumer group's first assignment: about two thirds of the
        session timeout on the broker, so a service with three consumer groups took three
        times as long to become ready as one with one. The groups are independent, so they
        join at once here; the rest is what `KafkaBroker.start` does (faststream 0.7:
        connect, start each subscriber, then each publisher, then mark it running)."""
        await self.broker.connect()
        await asyncio.gather(*(subscriber.start() for subscriber in self.broker.subscribers))
        for publisher in self.broker.publishers:
            await publisher.start()
        self.broker.running = True

    def _publish_counted(self, publish: Publish) -> Publish:
        async def counted(rows: Sequence[OutboxRow]) -> None:
            await publish(rows)
            self._published.labels(self.name).inc(len(rows))
            self.metrics.published(rows)

        return counted

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=f"{self.name}:{name}")
        task.add_done_callback(self._report_crash)
        self._tasks.append(task)

    @staticmethod
    def _report_crash(task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("background task died", task=task.get_name(), error=repr(task.exception()))

    async def _watch_backlog(self) -> None:
        while True:
            with contextlib.suppress(Exception):
                async with self.pool.acquire() as conn:
                    count, age = await backlog(conn)
                self._backlog.labels(self.name).set(count)
                self._backlog_age.labels(self.name).set(age)
            await asyncio.sleep(5)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.metrics.lag.close()
        if self._outbox_producer is not None:
            await self._outbox_producer.stop()
        await consumer.flush_offsets(self.broker)  # what was applied since the last commit, unless mid-batch
        await self.broker.stop()
        if self._pool is not None:
            await self._pool.close()
        log.info("service stopped", service=self.name)

    async def check_database(self) -> None:
        async with self.pool.acquire() as conn:
            await conn.fetchval("SELECT 1")

    async def check_broker(self) -> None:
        if not await self.broker.ping(timeout=2.0):
            raise ConnectionError("broker unreachable")

    def http_app(self, *, title: str, version: str = "1", union_tags: frozenset[str] = frozenset()) -> FastAPI:
        configure_logging(self.name, self.settings.log_level, self.settings.log_json)

        @contextlib.asynccontextmanager
        async def lifespan(served: FastAPI) -> AsyncIterator[None]:
            # Routes are all included by now: a route outside the public-read policy
            # (regia_shared.http.access) stops the service before it answers anything.
            check_access_policy(served)
            await self.start()
            try:
                yield
            finally:
                await self.stop()

        # Every route, however it is included, refuses a query parameter it does not declare.
        app = FastAPI(
            title=title,
            version=version,
            lifespan=lifespan,
            dependencies=[Depends(refuse_unknown_query_parameters)],
        )
        app.state.settings = self.settings
        app.state.runtime = self
        install_openapi(app)  # the real error shape and the errors each operation can answer
        install_request_limits(app)  # body size, JSON depth, NUL: before any route (limits)
        instrument_http(app, self.registry, self.name)
        install_error_handlers(app, union_tags)
        app.include_router(
            ops_router(self.registry, {"database": self.check_database, "broker": self.check_broker}, self.name)
        )
        app.include_router(api_docs_router(app, self.broker, self.name, self.publishes))
        app.include_router(
            outbox_replay_router(
                lambda: self.pool,
                self.name,
                lambda: self.topics_needed,
                ensure_with(self.settings.kafka_bootstrap_servers, TopicPolicy.of(self.settings), self.kafka_security),
            )
        )
        app.include_router(dead_letters_router(lambda: self.pool, self.broker))
        install_audit(app, self)  # every write request in audit_log, GET /v1/audit (audit)
        # Outermost, so every answer a client accepts gzip'd is (errors and 429s included).
        # /metrics too: Prometheus asks for gzip and reads it. Never a text/event-stream
        # (Starlette leaves those alone), though no service streams events over HTTP.
        app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES)
        return app
