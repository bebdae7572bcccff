"""Who may do what on a production Kafka: the one declaration the broker's ACLs are made from.

Each service logs in as its own user (`regia-<service>`) and may write only the topics it
owns (the events it publishes, the dead letters of its own consumers), read only the
topics it consumes, in its own consumer groups, and create those topics (the services
create what they use at start-up). An institution's user (`institution-<id>`) may only
write the inbound commands topic: it cannot read any topic, not even the rejections
(funding serves those over its API), nor write regia.funding.v1. The console reads the
event topics for its live page (not the inbound commands, which carry institutions' keys)
and writes nothing; the topics job only creates topics;
the admin user (the brokers' own login and the init job's) is the only super user.

`python -m regia_shared.contracts.kafka_access` (or `regia kafka-acls`) prints the ACL file
`deploy/kafka/acls.txt` that the brokers' init job applies; tests/unit/test_kafka_acls.py
checks that the checked-in file is this output and that every service's runtime publishes,
consumes and groups exactly what is declared here.
"""

import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from regia_shared.contracts import topics
from regia_shared.contracts.catalogue import SERVICE_NAMES

ADMIN_USER = "regia-admin"  # super user: the brokers' inter-broker login and the init job
TOPICS_USER = "regia-topics"  # the one-shot topic creation (compose's `topics` job)
CONSOLE_USER = "regia-console"
INSTITUTION_PREFIX = "institution-"
# Institutions the deployment files come with, as examples: compose's .env gives each a
# password; a real deployment lists its own (docs/operations.md, "An institution's Kafka user").
EXAMPLE_INSTITUTIONS = ("regione-liguria", "comune-spezia")
# What the console's live page reads: every topic but the inbound commands, whose headers
# carry institutions' API keys (regia_console.feed subscribes to exactly these).
CONSOLE_READS = tuple(t for t in topics.ALL if t != topics.FUNDING_INBOUND)


def service_user(service: str) -> str:
    return f"regia-{service}"


# A Kafka user name goes into kafka-acls' and kafka-configs' command lines and into an env
# variable's name: letters, digits and dashes only, as institution ids are in practice.
INSTITUTION_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")


def institution_user(institution_id: str) -> str:
    if not INSTITUTION_ID.fullmatch(institution_id):
        raise ValueError(
            f"institution id {institution_id!r} cannot name a Kafka user: lower-case letters, digits and dashes only"
        )
    return f"{INSTITUTION_PREFIX}{institution_id}"


@dataclass(frozen=True)
class ServiceAccess:
    """What one service does on Kafka: the topics it publishes and, per consumer group, the
    consumers it fetches for and the topic each reads. A consumer's name keys its inbox and
    its dead-letter topic; until 2026-12 each consumer was a group of its own, of its name,
    and a group carrying such consumers reads those earlier groups' offsets once, on
    upgrade (regia_shared.messaging.group_offsets)."""

    publishes: tuple[str, ...]
    groups: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def consumes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for cs in self.groups.values() for t in cs.values()))

    @property
    def consumers(self) -> tuple[str, ...]:
        return tuple(c for cs in self.groups.values() for c in cs)

    @property
    def dead_letters(self) -> tuple[str, ...]:
        return tuple(topics.dead_letter(c) for c in self.consumers)

    @property
    def earlier_groups(self) -> tuple[str, ...]:
        """The groups of an earlier release whose offsets a group of this one takes over."""
        return tuple(c for g, cs in self.groups.items() for c in cs if c != g)


SERVICES: Mapping[str, ServiceAccess] = {
    "funding": ServiceAccess(
        publishes=(topics.FUNDING, topics.FUNDING_INBOUND_REJECTED),
        groups={
            "funding": {"funding.partners": topics.PARTNERS, "funding.objectives": topics.OBJECTIVES},
            "funding.inbound": {"funding.inbound": topics.FUNDING_INBOUND},
        },
    ),
    "objectives": ServiceAccess(
        publishes=(topics.OBJECTIVES, topics.OBJECTIVES_COVERAGE),
        groups={"objectives": {"objectives.partners": topics.PARTNERS, "objectives.funding": topics.FUNDING}},
    ),
    "partners": ServiceAccess(
        publishes=(topics.PARTNERS,),
        groups={"partners": {"partners.objectives": topics.OBJECTIVES, "partners.plans": topics.OBJECTIVES}},
    ),
    "notifier": ServiceAccess(
        publishes=(topics.NOTIFICATIONS,),
        groups={
            "notifier": {
                "notifier.partners": topics.PARTNERS,
                "notifier.funding": topics.FUNDING,
                "notifier.objectives": topics.OBJECTIVES,
                "notifier.coverage": topics.OBJECTIVES_COVERAGE,
            },
        },
    ),
}
assert tuple(SERVICES) == SERVICE_NAMES, "every service of the catalogue, in its order"


@dataclass(frozen=True, order=True)
class Acl:
    """One allow rule: `principal` may do `operations` on the resource. Kafka denies
    whatever no rule allows (StandardAuthorizer, allow.everyone.if.no.acl.found=false)."""

    principal: str
    resource: str  # topic | group
    pattern: str  # literal | prefixed
    name: str
    operations: tuple[str, ...]

    def line(self) -> str:
        return f"{self.principal:<36} {self.resource:<6} {self.pattern:<8} {self.name:<40} {','.join(self.operations)}"


def _acl(user: str, resource: str, name: str, operations: Sequence[str], pattern: str = "literal") -> Acl:
    return Acl(f"User:{user}", resource, pattern, name, tuple(operations))


def acls(institutions: Iterable[str] = EXAMPLE_INSTITUTIONS) -> list[Acl]:
    """Every allow rule of a deployment whose institutions are `institutions`."""
    rules: list[Acl] = []
    for service, access in SERVICES.items():
        user = service_user(service)
        # Create: a service creates the topics it uses at start (Kubernetes has no topics job).
        rules += [_acl(user, "topic", t, ("Write", "Describe", "Create")) for t in access.publishes]
        rules += [_acl(user, "topic", t, ("Write", "Describe", "Create")) for t in access.dead_letters]
        rules += [_acl(user, "topic", t, ("Read", "Describe", "Create")) for t in access.consumes]
        rules += [_acl(user, "group", g, ("Read",)) for g in access.groups]
        # Describe: reading an earlier release's group offsets, to start where it had got to.
        rules += [_acl(user, "group", g, ("Describe",)) for g in access.earlier_groups]
    # The topics job lays out every topic; dead-letter topics are named after consumers,
    # hence the prefix rather than a list.
    rules.append(_acl(TOPICS_USER, "topic", "regia.", ("Create", "Describe"), pattern="prefixed"))
    # The console's live page: a groupless reader of every event topic (regia_console.feed).
    rules += [_acl(CONSOLE_USER, "topic", t, ("Read", "Describe")) for t in CONSOLE_READS]
    for institution in institutions:
        rules.append(_acl(institution_user(institution), "topic", topics.FUNDING_INBOUND, ("Write", "Describe")))
    return rules


def users(institutions: Iterable[str] = EXAMPLE_INSTITUTIONS) -> list[str]:
    """Every SCRAM user of the deployment, the admin first."""
    return [ADMIN_USER, *dict.fromkeys(a.principal.removeprefix("User:") for a in acls(institutions))]


def password_variable(user: str) -> str:
    """The variable the init job reads `user`'s SCRAM password from (compose's .env)."""
    return "KAFKA_PASSWORD_" + user.upper().replace("-", "_").replace(".", "_")


HEADER = """\
# Kafka ACLs of a Regia deployment: generated by `regia kafka-acls` from
# regia_shared/contracts/kafka_access.py; do not edit (tests/unit/test_kafka_acls.py checks
# that this is its output). deploy/kafka/init.sh applies each line as an allow rule; whatever
# no line allows is denied. Columns: principal, resource, pattern, name, operations.
"""


def render(institutions: Iterable[str] = EXAMPLE_INSTITUTIONS) -> str:
    return HEADER + "".join(a.line().rstrip() + "\n" for a in acls(institutions))


if __name__ == "__main__":  # the ACL file of the example institutions, or of those named
    sys.stdout.write(render(sys.argv[1:] or EXAMPLE_INSTITUTIONS))
