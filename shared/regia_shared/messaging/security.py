"""How every Kafka client Regia builds authenticates: faststream's broker, the outbox relay's
producer, topic creation, the consumer-lag reader, the console's feed.

One value, `KafkaSecurity`, made once per process from its settings and handed to each
client, so no client can be forgotten and connect in the clear to a broker that a
deployment meant to protect. faststream's own translation (`parse_security`) turns it into
aiokafka's arguments, so the broker faststream builds and the clients built here by hand
get the very same ones.

PLAINTEXT is the embedded broker's (loopback only). SASL_SSL is production's: TLS verified
against the deployment's CA, with the brokers' host names checked against their
certificates, and a SCRAM login as the process's own user, whose ACLs say what it may read
and write (deploy/kafka/acls.txt, generated from regia_shared.contracts.kafka_access).
"""

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLScram256, SASLScram512
from pydantic import SecretStr

from regia_shared.settings import KafkaClientSettings


class KafkaSecurityError(ValueError):
    """The Kafka security settings are incomplete or unusable; the message names the variable."""


@dataclass(frozen=True)
class KafkaSecurity:
    protocol: str = "PLAINTEXT"
    mechanism: str = "SCRAM-SHA-512"
    username: str | None = None
    password: SecretStr | None = field(default=None, repr=False)
    cafile: Path | None = None
    # Made once: every client of the process shares it (it holds only the CA).
    _context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, settings: KafkaClientSettings) -> "KafkaSecurity":
        """The security `settings` ask for, checked whole: SASL_SSL needs a user, a password
        and a readable CA file, or this raises naming what is missing. Nothing connects."""
        if settings.kafka_security_protocol == "PLAINTEXT":
            return PLAINTEXT
        missing = [
            name
            for name, value in (
                ("REGIA_KAFKA_SASL_USERNAME", settings.kafka_sasl_username),
                ("REGIA_KAFKA_SASL_PASSWORD", settings.kafka_sasl_password),
                ("REGIA_KAFKA_SSL_CAFILE", settings.kafka_ssl_cafile),
            )
            if value is None or (isinstance(value, SecretStr) and not value.get_secret_value())
        ]
        if missing:
            raise KafkaSecurityError(
                f"REGIA_KAFKA_SECURITY_PROTOCOL=SASL_SSL needs {', '.join(missing)} "
                "(this process's Kafka user, its SCRAM password and the PEM file of the CA that signed the brokers' certificates)"
            )
        cafile = settings.kafka_ssl_cafile
        assert cafile is not None
        try:
            context = ssl.create_default_context(cafile=str(cafile))
        except (OSError, ssl.SSLError) as exc:
            # Never a message from the password's side: only the CA file's path is named.
            raise KafkaSecurityError(
                f"REGIA_KAFKA_SSL_CAFILE={str(cafile)!r} is not a readable PEM CA certificate: "
                f"{exc.strerror or exc.__class__.__name__}"
            ) from None
        # TLS 1.2 at least, the broker's certificate verified and its name checked: the
        # defaults of create_default_context, stated so that a change there is seen here.
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.check_hostname = True
        context.verify_mode = ssl.CERT_REQUIRED
        return cls(
            "SASL_SSL",
            settings.kafka_sasl_mechanism,
            settings.kafka_sasl_username,
            settings.kafka_sasl_password,
            cafile,
            context,
        )

    @property
    def ssl_context(self) -> ssl.SSLContext | None:
        return self._context

    def faststream(self) -> BaseSecurity | None:
        """The `security=` of faststream's KafkaBroker (None: plain Kafka)."""
        if self.protocol == "PLAINTEXT":
            return None
        assert self.username is not None and self.password is not None
        scram = SASLScram512 if self.mechanism == "SCRAM-SHA-512" else SASLScram256
        return scram(self.username, self.password.get_secret_value(), ssl_context=self._context, use_ssl=True)

    def client_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of an aiokafka producer, consumer or admin client, as
        faststream gives them to the clients it builds ({} for plain Kafka)."""
        return parse_security(self.faststream())

    def describe(self) -> str:
        """For logs and errors: the protocol and the user, never the password."""
        if self.protocol == "PLAINTEXT":
            return "PLAINTEXT"
        return f"SASL_SSL as {self.username} ({self.mechanism}, CA {self.cafile})"


PLAINTEXT = KafkaSecurity()
