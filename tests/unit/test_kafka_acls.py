"""The Kafka ACLs a deployment applies (deploy/kafka/acls.txt) are generated from the
declaration in regia_shared.contracts.kafka_access, and that declaration is what the
services really do: each service's runtime publishes, consumes and groups exactly what it
declares. So a new topic or consumer group fails here until the ACLs allow it, and the
ACLs never allow more than the code needs."""

from collections import defaultdict

import pytest
from typer.testing import CliRunner

from regia.cli import app as cli
from regia_funding.app import create_app as funding_app
from regia_notifier.app import create_app as notifier_app
from regia_objectives.app import create_app as objectives_app
from regia_partners.app import create_app as partners_app
from regia_shared.contracts import kafka_access, topics
from regia_shared.contracts.kafka_access import SERVICES, Acl, acls, institution_user, service_user
from regia_shared.messaging import consumer
from regia_shared.runtime import ServiceRuntime

from .test_deploy_compose import ROOT

ACL_FILE = ROOT / "deploy" / "kafka" / "acls.txt"
APPS = {"funding": funding_app, "objectives": objectives_app, "partners": partners_app, "notifier": notifier_app}


def runtime_of(service: str) -> ServiceRuntime:
    return APPS[service]().state.runtime


def test_the_checked_in_acl_file_is_the_generated_one() -> None:
    assert ACL_FILE.read_text() == kafka_access.render(), "run `./regia.sh kafka-acls` and commit deploy/kafka/acls.txt"


def test_the_command_checks_and_writes_the_file(tmp_path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["kafka-acls", "--check"]).exit_code == 0
    out = tmp_path / "acls.txt"
    assert runner.invoke(cli, ["kafka-acls", "--check", "--out", str(out)]).exit_code == 1
    assert runner.invoke(cli, ["kafka-acls", "--out", str(out), "--institution", "provincia-sp"]).exit_code == 0
    text = out.read_text()
    assert "User:institution-provincia-sp" in text and "institution-regione-liguria" not in text
    refused = runner.invoke(cli, ["kafka-acls", "--out", str(out), "--institution", "x; rm -rf /"])
    assert refused.exit_code == 2 and "cannot name a Kafka user" in refused.output


@pytest.mark.parametrize("service", list(SERVICES))
def test_each_service_does_what_its_acls_declare(service: str) -> None:
    runtime = runtime_of(service)
    declared = SERVICES[service]
    assert sorted(runtime.publishes) == sorted(declared.publishes)
    assert sorted(runtime.consumes) == sorted(declared.consumes)
    groups: dict[str, set[str]] = defaultdict(set)
    for subscriber in runtime.broker.subscribers:
        groups[subscriber.group_id].update(subscriber.topic_names_for_subscribe)  # type: ignore[attr-defined]
    assert dict(groups) == {g: set(cs.values()) for g, cs in declared.groups.items()}
    registered = {c: s.topic for c, s in consumer.subscriptions_of(runtime.broker).items()}
    assert registered == {c: t for cs in declared.groups.values() for c, t in cs.items() if c not in groups}


def rules_of(principal: str) -> list[Acl]:
    return [a for a in acls() if a.principal == f"User:{principal}"]


def allowed(principal: str, operation: str) -> set[str]:
    return {a.name for a in rules_of(principal) if operation in a.operations}


@pytest.mark.parametrize("service", list(SERVICES))
def test_a_service_writes_only_its_own_topics_and_reads_only_what_it_consumes(service: str) -> None:
    declared, user = SERVICES[service], service_user(service)
    assert allowed(user, "Write") == {*declared.publishes, *declared.dead_letters}
    assert {a.name for a in rules_of(user) if a.resource == "topic" and "Read" in a.operations} == set(
        declared.consumes
    )
    assert {a.name for a in rules_of(user) if a.resource == "group" and a.operations == ("Read",)} == set(
        declared.groups
    )
    # An earlier release's groups, one per consumer: only their offsets are read (on upgrade).
    assert {a.name for a in rules_of(user) if a.resource == "group" and a.operations == ("Describe",)} == set(
        declared.earlier_groups
    )
    assert all(a.pattern == "literal" for a in rules_of(user))


def test_only_funding_writes_the_funding_events_and_reads_the_inbound_commands() -> None:
    writers = {a.principal for a in acls() if a.name == topics.FUNDING and "Write" in a.operations}
    assert writers == {"User:regia-funding"}
    readers = {a.principal for a in acls() if a.name == topics.FUNDING_INBOUND and "Read" in a.operations}
    assert readers == {"User:regia-funding"}


@pytest.mark.parametrize("institution", kafka_access.EXAMPLE_INSTITUTIONS)
def test_an_institution_may_only_write_the_inbound_topic(institution: str) -> None:
    rules = rules_of(institution_user(institution))
    assert [(a.resource, a.pattern, a.name, a.operations) for a in rules] == [
        ("topic", "literal", topics.FUNDING_INBOUND, ("Write", "Describe"))
    ]
    # Not even its rejections: funding serves those over its API.
    assert topics.FUNDING_INBOUND_REJECTED not in {a.name for a in rules}


def test_prefixed_rules_never_allow_reading_or_writing() -> None:
    for rule in acls():
        if rule.pattern != "literal":
            assert set(rule.operations) <= {"Create", "Describe"}, rule


def test_every_topic_has_an_owner_and_the_console_never_reads_the_commands() -> None:
    owned = {t for access in SERVICES.values() for t in access.publishes}
    assert owned == set(topics.ALL) - {topics.FUNDING_INBOUND}  # the inbound topic is the institutions'
    assert topics.FUNDING_INBOUND not in allowed(kafka_access.CONSOLE_USER, "Read")
    assert not allowed(kafka_access.CONSOLE_USER, "Write")


def test_users_are_one_per_principal_with_the_admin_first() -> None:
    users = kafka_access.users()
    assert users[0] == kafka_access.ADMIN_USER
    assert len(users) == len(set(users))
    assert {*map(service_user, SERVICES), "regia-topics", "regia-console"} <= set(users)
    assert kafka_access.password_variable("institution-comune-spezia") == "KAFKA_PASSWORD_INSTITUTION_COMUNE_SPEZIA"
