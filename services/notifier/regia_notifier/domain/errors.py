"""Every refusal the notifier's domain raises. Pure.

Failures that are not the domain's stay where they arise, each saying why: a webhook call
that failed (adapters.webhook_sender.WebhookError), an SMTP server without SMTPUTF8
(adapters.smtp.SmtpUtf8Unsupported), stored secrets no key opens at start-up
(service_layer.secret_rewrapping.UnreadableSecrets).
"""


class Undeliverable(Exception):
    """A failure no retry can cure (an address that cannot be written, a server that
    cannot take it): the delivery is dead at once, with this as its reason, rather than
    failing the same way until its attempts run out. An administrator can still retry the
    dead letter once the cause is gone (say, the server now offers SMTPUTF8)."""


class UnusableAddress(Undeliverable):
    """An address that cannot be written on the wire at all: no attempt can succeed."""


__all__ = ["Undeliverable", "UnusableAddress"]
