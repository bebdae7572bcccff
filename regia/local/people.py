"""The people `regia up` makes on the embedded default so that someone can log in to the
console: a first administrator (login `admin`), and with `--demo` one account per role for
the walk-through. Each is made once, through the partners service with the admin token
(POST /v1/accounts), with a generated password printed only then, like a generated admin
token; a later run finds the account there and says so (an administrator can set a new
password; partners keeps only its argon2id hash)."""

from collections.abc import Callable
from dataclasses import dataclass

from regia_shared.http.auth import new_secret

from ..operator.admin import AdminError, ServiceClient

FIRST_ADMIN = "admin"


@dataclass(frozen=True)
class Person:
    account_id: str
    name: str
    role: str
    institution_id: str | None = None
    partner_id: str | None = None
    with_contact_of: str | None = None  # link the first contact of this partner (their alerts)


DEMO_PEOPLE = (
    Person("officer", "Referente Regione Liguria", "institution_officer", institution_id="regione-liguria"),
    Person(
        "lead",
        "Capofila Comune della Spezia",
        "project_lead",
        partner_id="comune-spezia",
        with_contact_of="comune-spezia",
    ),
    Person("observer", "Osservatore", "observer"),
)


def make_people(partners_url: str, token: str, demo: bool, say: Callable[[str], None]) -> dict[str, str]:
    """Make the first administrator (and the demo's people); the passwords of those made
    now, by login. A failure is said and leaves the system running."""
    wanted = [Person(FIRST_ADMIN, "Amministratore", "administrator")] + (list(DEMO_PEOPLE) if demo else [])
    made: dict[str, str] = {}
    try:
        reason = "regia up: the first administrator" + (" and the demo's people" if demo else "")
        with ServiceClient("partners", partners_url, token, reason=reason) as partners:
            for person in wanted:
                if partners.request("GET", f"/v1/accounts/{person.account_id}", ok=(200, 404)).status_code == 200:
                    continue
                body: dict[str, object] = {
                    "account_id": person.account_id,
                    "name": person.name,
                    "role": person.role,
                    "password": new_secret(12),  # 16 characters of base64url: 96 bits
                }
                body |= {
                    k: v for k, v in (("institution_id", person.institution_id), ("partner_id", person.partner_id)) if v
                }
                if person.with_contact_of:
                    contacts = partners.listing(f"/v1/partners/{person.with_contact_of}/contacts", {}, 1)
                    if contacts:
                        body["contact_id"] = contacts[0]["contact_id"]
                partners.request("POST", "/v1/accounts", json=body, ok=(201,))
                made[person.account_id] = str(body["password"])
    except AdminError as exc:
        say(f"warning: the console's accounts could not be made: {exc}")
    return made


def say_people(made: dict[str, str], demo: bool, say: Callable[[str], None]) -> None:
    if made:
        say("Console accounts, made now; their passwords are shown only now (change them once logged in):")
        for login, password in made.items():
            say(f"  login {login:<9} password {password}")
    if FIRST_ADMIN not in made:
        say(
            f"Console: log in as {FIRST_ADMIN!r} with the password printed when it was made"
            " (lost? make another administrator with the admin token: docs/operations.md)."
        )
