"""`regia up`: the whole system on one machine, in the foreground, until Ctrl-C.

Exit status 0 after a requested stop; 1 when something could not start or a child died
before everything was ready (its log tail is printed), after stopping everything that was
started either way. Once ready, a child that dies is restarted and the rest keeps running
(LocalStack.supervise; the policy is in regia/local/supervision.py).
"""

import os
import time
from pathlib import Path

import typer

from regia_shared.contracts.catalogue import SettingError
from regia_shared.http.auth import new_secret
from regia_shared.observability.logs import configure_logging

from ..operator.admin import AdminError
from ..operator.demo import load_demo
from .embedded.private import keep_private
from .interrupts import Interrupts, Shutdown
from .people import make_people, say_people
from .stack import ChildDied, LocalStack
from .summary import ready_table


def say(line: str) -> None:
    typer.echo(line)  # click flushes each line: a pipe reader (a test, `tee`) sees it at once


def take_admin_token() -> tuple[str, bool]:
    """The operator's token, or a new one (and whether it was generated).

    The clear token is removed from this process's environment before any child starts:
    children inherit the environment, and services must only ever know its SHA-256.
    """
    token = os.environ.pop("REGIA_ADMIN_TOKEN", "").strip()
    return (token, False) if token else (new_secret(), True)


def up(demo: bool, data_dir: Path) -> None:
    token, generated = take_admin_token()
    configure_logging("regia-up", "WARNING", json=False)  # the terminal is for the summary
    interrupts = Interrupts()
    keep_private(data_dir)  # umask 077 and a 0700 data dir: it holds the database, logs and mails
    try:
        stack = LocalStack(data_dir, token, interrupts, say)
    except SettingError as exc:
        say(f"error: {exc}")
        raise typer.Exit(1) from None
    interrupts.install()  # from here on, every signal ends in stack.stop()
    status = 0
    try:
        stack.check_ports()
        stack.start_infrastructure()
        stack.start_services()
        stack.wait_ready()
        stack.republish()  # before anything new: what the previous run's broker took with it
        say(ready_table(stack))
        say(f"  console   {stack.console_url}  (log in with an account below)  log {stack.logs / 'console.log'}")
        if generated:
            say("Admin token, for the CLI and scripts (not the console), generated for this run and shown only now:")
            say(f"  export REGIA_ADMIN_TOKEN='{token}'")
        else:
            say("Admin token: the one in REGIA_ADMIN_TOKEN.")
        if demo:
            seed(stack, token)
        say_people(make_people(stack.urls["partners"], token, demo, say), demo, say)
        say("Regia is running. Ctrl-C stops everything.")
        while True:
            stack.supervise()
            time.sleep(0.5)
    except Shutdown:
        say("stopping: services, then broker, then PostgreSQL…")
    except ChildDied as exc:
        status = 1
        say(f"error: {exc}\nstopping everything else.")
    except Exception as exc:  # start-up failed: say what, then clean up what did start
        status = 1
        say(f"error: regia up failed: {exc}")
    finally:
        interrupts.ignore_from_now_on()
        stack.stop()
    say("stopped." if status == 0 else "stopped after an error.")
    raise typer.Exit(status)


def seed(stack: LocalStack, token: str) -> None:
    """Load the demo; a failure leaves the system running and says why."""
    say("loading the La Spezia demo…")
    try:
        load_demo(stack.urls, token, say)
    except AdminError as exc:
        say(f"warning: the demo seed failed and the services keep running: {exc}")
