"""What the one-machine default keeps on disk is readable by its owner only: the data dir,
the embedded PostgreSQL's folders, every log, the caught mails (contacts' addresses, alert
text) and the notifier's key. Folders 0700, files 0600, also when an earlier run left them
looser: each piece tightens them when it starts. Checked on the real pieces: the embedded
PostgreSQL, the mail catcher fed by a real SMTP client, a managed child process, and
`regia up` itself.

Running as root, the embedded PostgreSQL runs as its own system user, which must pass
through the folders above its data: those get g+x and o+x (traverse only, never list or read)."""

import os
import smtplib
import stat
import sys
from email.message import EmailMessage
from pathlib import Path

from cryptography.fernet import Fernet

from regia.local.embedded.postgres import EmbeddedPostgres
from regia.local.embedded.process import ManagedProcess, free_port
from regia.local.mailcatcher import MailCatcher
from regia.local.secrets_key import event_signing_keys, notifier_secrets_key, preference_link_key
from regia_shared.contracts.preference_links import parse_keys

from ..support.figures import record
from ..support.regia_up import RUNNING, RegiaUp

AS_ROOT = os.geteuid() == 0


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def loosely(path: Path, content: bytes | None = None) -> Path:
    """A file or folder as an earlier run with umask 022 left it."""
    if content is None:
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o755)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        path.chmod(0o644)
    return path


def exposed(root: Path, traversed: set[Path] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """Everything under `root` (itself included) another user could read, write or list.
    `traversed` may have g+x and o+x; sockets are left out (PostgreSQL's sits in a 0700 folder)."""
    found = []
    for path in [root, *root.rglob("*")]:
        st = path.lstat()
        if stat.S_ISSOCK(st.st_mode) or stat.S_ISLNK(st.st_mode):
            continue
        allowed = stat.S_IXGRP | stat.S_IXOTH if path in traversed else 0
        if stat.S_IMODE(st.st_mode) & 0o077 & ~allowed:
            found.append(f"{path.relative_to(root.parent)} {oct(stat.S_IMODE(st.st_mode))}")
    return found


def test_the_embedded_postgresql_and_its_log_are_owner_only(tmp_path: Path) -> None:
    root = tmp_path / "infra"
    loosely(root / "pg")
    loosely(root / "logs" / "postgres.log", b"an earlier run\n")
    server = EmbeddedPostgres(root / "pg", free_port(), root / "logs").start()
    try:
        assert mode(root / "pg" / "pgdata") == 0o700
        assert mode(root / "logs") == 0o700 and mode(root / "logs" / "postgres.log") == 0o600
        for _ in range(2):  # and a second start on the same folders keeps them so
            assert exposed(root / "pg", {root / "pg"} if AS_ROOT else set()) == []
            assert exposed(root / "logs") == []
            server.restart()
    finally:
        server.stop()
    record("embedded postgres files owner-only", faults=1, euros_lost=0)


def test_caught_mails_are_owner_only_also_those_of_an_earlier_run(tmp_path: Path) -> None:
    folder = loosely(tmp_path / "mail")
    old = loosely(folder / "20250101T000000-0001.eml", b"To: someone@example.org\r\n\r\nold alert\r\n")
    catcher = MailCatcher(folder, free_port(), lambda line: None).start()
    try:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "regia@example.org", "ada@example.org", "a rischio"
        message.set_content("Il Miglio Blu è a rischio.")
        with smtplib.SMTP("127.0.0.1", catcher.port, timeout=10) as smtp:
            smtp.send_message(message)
    finally:
        catcher.stop()
    caught = [p for p in folder.glob("*.eml") if p != old]
    assert len(caught) == 1 and b"ada@example.org" in caught[0].read_bytes()
    assert mode(folder) == 0o700 and mode(caught[0]) == 0o600 and mode(old) == 0o600
    record("caught mails owner-only", faults=1, euros_lost=0)


def test_a_managed_child_logs_to_an_owner_only_file_and_creates_owner_only_files(tmp_path: Path) -> None:
    log = loosely(tmp_path / "logs" / "child.log", b"an earlier run\n")
    made = tmp_path / "made-by-the-child"
    child = ManagedProcess("child", [sys.executable, "-c", f"open({str(made)!r}, 'w').write('x'); print('hi')"], log)
    child.start()
    assert child.proc is not None and child.proc.wait(30) == 0
    assert "hi" in log.read_text()
    assert mode(log.parent) == 0o700 and mode(log) == 0o600
    assert mode(made) == 0o600  # the child's umask is 077


def test_the_notifier_key_is_tightened_when_an_earlier_run_left_it_loose(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("REGIA_NOTIFIER_SECRETS_KEY", raising=False)
    key = Fernet.generate_key()
    loosely(tmp_path / "data" / "notifier-secrets.key", key)
    assert notifier_secrets_key(tmp_path / "data") == key.decode()
    assert mode(tmp_path / "data" / "notifier-secrets.key") == 0o600


def test_the_preference_link_key_is_made_once_for_its_owner_only(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("REGIA_PREFERENCE_LINK_KEY", raising=False)
    made = preference_link_key(tmp_path / "data")
    assert parse_keys(made) and mode(tmp_path / "data" / "preference-link.key") == 0o600
    # The same on the next start: the links already mailed keep working.
    assert preference_link_key(tmp_path / "data") == made
    monkeypatch.setenv("REGIA_PREFERENCE_LINK_KEY", "x" * 40)  # the environment wins
    assert preference_link_key(tmp_path / "data") == "x" * 40


def test_regia_up_keeps_its_data_dir_to_its_owner(tmp_path: Path) -> None:
    data = loosely(tmp_path / "data")
    for name in ("logs/funding.log", "logs/postgres.log", "mail/20250101T000000-0001.eml"):
        loosely(data / name, b"an earlier run\n")
    loosely(data / "notifier-secrets.key", Fernet.generate_key())
    up = RegiaUp(data)
    try:
        up.wait_for(RUNNING)
        assert {p.name for p in (data / "logs").glob("*.log")} >= {"funding.log", "console.log", "postgres.log"}
        found = exposed(data, {data, data / "pg"} if AS_ROOT else set())
        assert found == [], (found, up.output[-2000:])
    finally:
        up.stop_everything()
    record("regia up data dir owner-only", faults=1, euros_lost=0)


def test_the_event_signing_keys_are_made_once_for_their_owner_only(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("REGIA_EVENT_SIGNING_KEYS", raising=False)
    made = event_signing_keys(tmp_path / "data")
    assert made.services() == {"funding", "objectives", "partners", "notifier"}
    assert mode(tmp_path / "data" / "event-signing.keys") == 0o600
    # The same on the next start: events signed before the restart still verify.
    assert event_signing_keys(tmp_path / "data").text() == made.text()
