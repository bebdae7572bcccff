"""`regia plan import|export`: plan files into and out of the objectives service.

A file is checked here first, with the same reader the service uses, so that every problem
is shown with its path and line before anything is sent; the service checks again (it
alone knows which ids other plans use and which partners are registered) and its refusal
is shown the same way. The service imports the whole file, leads, roles, indicators and
milestones included, in one transaction; the partners service, which owns leads and roles,
applies them from the import's event (docs/architecture.md).
"""

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import typer

from regia_objectives.adapters.planfile import MAX_BYTES, read_plan
from regia_objectives.domain.errors import PlanFileInvalid
from regia_objectives.domain.plan_file import PlanFile
from regia_objectives.service_layer.plan_parts import UNKNOWN_PARTNER
from regia_shared.contracts.catalogue import OBJECTIVES, PARTNERS
from regia_shared.writes import reason_header

from .admin import AdminError, ServiceClient, admin_token_from_env, problem, reported, segment

YAML = "application/yaml"
WHERE = (
    f"Needs REGIA_ADMIN_TOKEN; {OBJECTIVES.url_var} (default {OBJECTIVES.default_url}) and "
    f"{PARTNERS.url_var} (default {PARTNERS.default_url}) say where the services listen."
)

plan_app = typer.Typer(help=f"Plan files: import and export whole plans. {WHERE}", no_args_is_help=True)


class PlanRefused(AdminError):
    def __init__(self, what: str, problems: list[tuple[str, str]]) -> None:
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        self.only_unknown_partners = bool(problems) and all(m.startswith(UNKNOWN_PARTNER) for _, m in problems)
        super().__init__(
            "\n".join(
                [
                    f"{what} is not a valid plan file ({count}):",
                    *(f"  {where}: {message}" for where, message in problems),
                ]
            )
        )


def post_plan_file(objectives_url: str, token: str, text: str, name: str, reason: str | None = None) -> dict:
    """POST the file as it is, as YAML (ServiceClient speaks JSON); errors worded as it words them."""
    where, path = f"the objectives service at {objectives_url}", "/v1/plans/import"
    try:  # an import recomputes the coverage of a whole plan: give it time
        response = httpx.post(
            objectives_url.rstrip("/") + path,
            content=text.encode("utf-8"),
            timeout=60,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": YAML,
                **reason_header(reason or f"Plan file import of {Path(name).name}"[:500]),
            },
        )
    except httpx.ConnectError:
        raise AdminError(
            f"cannot reach {where}: is `regia up` running? (set REGIA_OBJECTIVES_URL if it runs elsewhere)"
        ) from None
    except httpx.HTTPError as exc:
        raise AdminError(f"POST {path} on {where} failed: {str(exc) or type(exc).__name__}") from None
    if response.status_code == 422:
        raise PlanRefused(f"the objectives service says {name}", refusal(response))
    if response.status_code == 401:
        raise AdminError(
            f"{where} refused the admin token: REGIA_ADMIN_TOKEN is not the token the services were started with"
        )
    if response.status_code != 200:
        raise AdminError(f"POST {path} on {where} answered {response.status_code}: {problem(response)}")
    return response.json()


def refusal(response: httpx.Response) -> list[tuple[str, str]]:
    """The problems of a 422 plan_invalid: every detail, else the message."""
    try:
        details = response.json().get("details") or []
        found = [(str(d.get("field") or "plan"), str(d.get("message", ""))) for d in details]
    except (ValueError, AttributeError):
        found = []
    return found or [("plan", problem(response))]


@plan_app.command("import")
def import_command(
    file: Path = typer.Argument(..., metavar="FILE.yaml", dir_okay=False, help="The plan file (YAML, UTF-8)"),
    reason: str | None = typer.Option(
        None, "--reason", help="Why, for the audit trail (3-500 characters); default: 'Plan file import of FILE'"
    ),
) -> None:
    """Check FILE.yaml and import it, with its leads, roles, indicators and milestones (all or nothing)."""
    with reported():
        text = read_text(file)
        check(text, str(file))  # before asking for a token: checking a file needs none
        import_plan(OBJECTIVES.url(), admin_token_from_env(), text, str(file), typer.echo, reason=reason)


@plan_app.command("export")
def export_command(
    plan_id: str = typer.Argument(..., metavar="PLAN_ID"),
    output: Path | None = typer.Option(
        None, "-o", "--output", dir_okay=False, help="Write the file here instead of stdout"
    ),
) -> None:
    """Write a plan as a plan file, with each node's lead as the objectives service knows it."""
    with reported(), ServiceClient(OBJECTIVES.name, OBJECTIVES.url(), admin_token_from_env()) as objectives:
        text = objectives.request("GET", f"/v1/plans/{segment(plan_id)}/export", ok=(200,)).text
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {output}", err=True)


def read_text(file: Path) -> str:
    try:
        if file.stat().st_size > MAX_BYTES:  # refuse before reading a huge file into memory
            raise AdminError(f"{file} is larger than {MAX_BYTES} bytes, the limit for a plan file")
        return file.read_bytes().decode("utf-8")
    except OSError as exc:
        raise AdminError(f"cannot read {file}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise AdminError(f"{file} is not UTF-8 text (byte {exc.start})") from None


def check(text: str, name: str) -> PlanFile:
    try:
        return read_plan(text)
    except PlanFileInvalid as exc:
        raise PlanRefused(name, [(p.where, p.message) for p in exc.problems]) from None


# A partner registered a moment ago is known to the objectives service once it has heard
# the partners service's event (well under a second on a running stack): a file refused
# only for partners it has not heard of yet is sent again, for this long.
PARTNERS_HEARD_WITHIN_S = 15.0


def import_plan(
    objectives_url: str,
    token: str,
    text: str,
    name: str,
    say: Callable[[str], None],
    partners_heard_within_s: float | None = None,
    reason: str | None = None,
) -> None:
    """Check and import the file; the service applies its leads and roles with the plan."""
    plan_file = check(text, name)
    deadline = time.monotonic() + (
        PARTNERS_HEARD_WITHIN_S if partners_heard_within_s is None else partners_heard_within_s
    )
    while True:
        try:
            done = post_plan_file(objectives_url, token, text, name, reason)
            break
        except PlanRefused as refused:
            if not refused.only_unknown_partners or time.monotonic() >= deadline:
                raise
            time.sleep(0.5)
    counts = ", ".join(f"{done[k]} {k}" for k in ("created", "updated", "unchanged", "removed") if k in done)
    roles = sum(len(held) for held in plan_file.roles.values())
    say(f"{name}: plan {done['plan_id']} imported ({counts}) with {len(plan_file.leads)} leads and {roles} roles")
