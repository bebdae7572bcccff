"""What `regia up` prints once everything answers: where each piece listens, its metrics
and its log. Credentials in an external DSN are masked: this text lands in terminals,
CI logs and bug reports."""

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from regia_shared.contracts.catalogue import SERVICES

from .stack import LocalStack


def masked_dsn(dsn: str) -> str:
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def shown(path: Path) -> str:
    """A path relative to the working directory when it is below it (shorter to read)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def ready_table(stack: LocalStack) -> str:
    logs = stack.logs
    rows = [("service", "listens on", "metrics", "log")]
    for service in SERVICES:
        url = stack.urls[service.name]
        rows.append((service.name, url, f"{url}/metrics", shown(logs / f"{service.name}.log")))
    if stack.postgres is not None:
        rows.append(("postgres", stack.postgres.dsn("regia"), "(embedded)", shown(logs / "postgres.log")))
    else:
        rows.append(("postgres", masked_dsn(stack.database_url or ""), "(external)", ""))
    if stack.broker is not None:
        rows.append(("kafka", stack.broker.bootstrap_servers, "(embedded Tansu)", shown(logs / "broker.log")))
    else:
        rows.append(("kafka", stack.bootstrap or "", "(external)", ""))
    if stack.mail is not None:
        rows.append(("smtp", f"127.0.0.1:{stack.mail.port}", "(catcher)", f"mails in {shown(stack.mail_dir)}"))
    else:
        smtp_port = os.environ.get("REGIA_SMTP_PORT", "")
        rows.append(("smtp", f"{stack.external_smtp}:{smtp_port}".rstrip(":"), "(external)", ""))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["Regia is up."]
    lines += [
        "  " + "  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True)) + "  " + row[3] for row in rows
    ]
    lines.append(f"  data dir: {stack.data_dir}")
    return "\n".join(line.rstrip() for line in lines)
