"""Every Kafka client Regia builds gets the security its settings ask for, and settings that
ask for SASL_SSL without a user, a password or a usable CA file stop the process before
anything connects, naming the variable (regia_shared.messaging.security)."""

import datetime
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from prometheus_client import CollectorRegistry
from pydantic import SecretStr, ValidationError

from regia_console.feed import EventFeed
from regia_console.settings import ConsoleSettings
from regia_console.web import create_app as console_app
from regia_funding.app import create_app as funding_app
from regia_funding.config import FundingSettings
from regia_shared.contracts import kafka_access
from regia_shared.messaging import create_topics
from regia_shared.messaging.kafka import OutboxProducer, make_broker
from regia_shared.messaging.security import PLAINTEXT, KafkaSecurity, KafkaSecurityError
from regia_shared.observability.metrics_lag import ConsumerLag
from regia_shared.settings import ServiceSettings

PASSWORD = "scram-Secret-never-shown-1234"


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA certificate as `deploy/kafka/make-certs.sh` makes one (its key is thrown away)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Regia test Kafka CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = tmp_path_factory.mktemp("kafka-ca") / "ca.crt"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def sasl_settings(ca_file: Path, **changes: object) -> ServiceSettings:
    values: dict[str, object] = {
        "kafka_bootstrap_servers": "kafka:9092",
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_username": "regia-funding",
        "kafka_sasl_password": SecretStr(PASSWORD),
        "kafka_ssl_cafile": ca_file,
    }
    values.update(changes)
    return ServiceSettings.model_validate(values)


def test_plaintext_is_the_default_and_adds_nothing() -> None:
    security = KafkaSecurity.of(ServiceSettings())
    assert security == PLAINTEXT
    assert security.faststream() is None
    assert security.client_kwargs() == {}
    assert "security_protocol" not in make_broker(ServiceSettings(), "funding", CollectorRegistry())._connection_kwargs


def test_sasl_ssl_gives_aiokafka_scram_over_verified_tls(ca_file: Path) -> None:
    kwargs = KafkaSecurity.of(sasl_settings(ca_file)).client_kwargs()
    context = kwargs.pop("ssl_context")
    assert kwargs == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "regia-funding",
        "sasl_plain_password": PASSWORD,
    }
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert context.cert_store_stats()["x509_ca"] == 1  # the deployment's CA, and only it


def test_scram_sha_256_when_asked(ca_file: Path) -> None:
    kwargs = KafkaSecurity.of(sasl_settings(ca_file, kafka_sasl_mechanism="SCRAM-SHA-256")).client_kwargs()
    assert kwargs["sasl_mechanism"] == "SCRAM-SHA-256"


async def test_every_client_gets_the_same_security(ca_file: Path) -> None:
    settings = sasl_settings(ca_file)
    security = KafkaSecurity.of(settings)
    expected = security.client_kwargs()

    broker = make_broker(settings, "funding", CollectorRegistry(), security)
    assert {k: broker._connection_kwargs[k] for k in expected} == expected

    client = OutboxProducer(
        "kafka:9092", idempotence=True, sign=lambda topic, key, value: [], security=security
    )._producer.client
    assert client._security_protocol == "SASL_SSL"
    assert client._sasl_mechanism == "SCRAM-SHA-512"
    assert client._sasl_plain_username == "regia-funding"
    assert client._ssl_context is expected["ssl_context"]


async def test_the_lag_reader_and_the_console_feed_log_in_too(ca_file: Path) -> None:
    security = KafkaSecurity.of(sasl_settings(ca_file))
    lag = ConsumerLag(CollectorRegistry(), "funding", "127.0.0.1:1", lambda: [], security)
    assert lag._security is security
    feed = EventFeed("127.0.0.1:1", kafka_access.CONSOLE_READS, security=security)
    assert feed.security is security


def test_a_service_builds_its_clients_from_its_settings(ca_file: Path) -> None:
    app = funding_app(
        FundingSettings.model_validate(
            {
                "kafka_security_protocol": "SASL_SSL",
                "kafka_sasl_username": "regia-funding",
                "kafka_sasl_password": PASSWORD,
                "kafka_ssl_cafile": ca_file,
            }
        )
    )
    runtime = app.state.runtime
    assert runtime.kafka_security.username == "regia-funding"
    assert runtime.broker._connection_kwargs["security_protocol"] == "SASL_SSL"
    assert runtime.metrics.lag._security is runtime.kafka_security


def test_the_console_reads_with_its_own_security(ca_file: Path) -> None:
    settings = ConsoleSettings.model_validate(
        {
            "kafka_security_protocol": "SASL_SSL",
            "kafka_sasl_username": "regia-console",
            "kafka_sasl_password": PASSWORD,
            "kafka_ssl_cafile": ca_file,
        }
    )
    feed = console_app(settings).state.feed
    assert feed.security.username == "regia-console"
    # Never the inbound commands: their headers carry institutions' API keys.
    assert "regia.funding.inbound.v1" not in feed.topics


@pytest.mark.parametrize(
    ("missing", "variable"),
    [
        ({"kafka_sasl_username": None}, "REGIA_KAFKA_SASL_USERNAME"),
        ({"kafka_sasl_password": None}, "REGIA_KAFKA_SASL_PASSWORD"),
        ({"kafka_sasl_password": SecretStr("")}, "REGIA_KAFKA_SASL_PASSWORD"),
        ({"kafka_ssl_cafile": None}, "REGIA_KAFKA_SSL_CAFILE"),
    ],
)
def test_sasl_ssl_without_credentials_or_ca_refuses(ca_file: Path, missing: dict, variable: str) -> None:
    with pytest.raises(KafkaSecurityError, match=variable) as refused:
        KafkaSecurity.of(sasl_settings(ca_file, **missing))
    assert PASSWORD not in str(refused.value)


def test_an_unreadable_ca_file_refuses_naming_it(tmp_path: Path) -> None:
    with pytest.raises(KafkaSecurityError, match="REGIA_KAFKA_SSL_CAFILE=.*nowhere.pem"):
        KafkaSecurity.of(sasl_settings(tmp_path / "nowhere.pem"))
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(KafkaSecurityError, match="garbage.pem"):
        KafkaSecurity.of(sasl_settings(garbage))


def test_a_service_with_incomplete_security_does_not_start(ca_file: Path) -> None:
    with pytest.raises(KafkaSecurityError, match="REGIA_KAFKA_SASL_PASSWORD"):
        funding_app(
            FundingSettings.model_validate(
                {
                    "kafka_security_protocol": "SASL_SSL",
                    "kafka_sasl_username": "regia-funding",
                    "kafka_ssl_cafile": ca_file,
                }
            )
        )


def test_only_the_two_protocols_parse() -> None:
    with pytest.raises(ValidationError):
        ServiceSettings.model_validate({"kafka_security_protocol": "SASL_PLAINTEXT"})
    with pytest.raises(ValidationError):
        ServiceSettings.model_validate({"kafka_sasl_mechanism": "PLAIN"})


def test_the_password_is_never_shown(ca_file: Path) -> None:
    settings = sasl_settings(ca_file)
    security = KafkaSecurity.of(settings)
    for shown in (repr(settings), str(settings), repr(security), security.describe()):
        assert PASSWORD not in shown
    assert security.describe() == f"SASL_SSL as regia-funding (SCRAM-SHA-512, CA {ca_file})"


def test_the_topics_job_refuses_incomplete_security(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REGIA_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("REGIA_KAFKA_SASL_USERNAME", "regia-topics")
    monkeypatch.delenv("REGIA_KAFKA_SASL_PASSWORD", raising=False)
    monkeypatch.delenv("REGIA_KAFKA_SSL_CAFILE", raising=False)
    assert create_topics.main() == 2
    err = capsys.readouterr().err
    assert "REGIA_KAFKA_SASL_PASSWORD" in err and "REGIA_KAFKA_SSL_CAFILE" in err
