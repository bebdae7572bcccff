"""What each role sees in the console: its pages, its navigation, its first page.

The services decide what a person may read and change (each checks the person's token:
docs/security.md, "Roles"); the console only leaves out what the role could not use, so
nobody meets a form the service would refuse, and answers a page the role may not open
with a 403 that says so. Observers read what administrators read and write nothing;
institution officers see their institution's page; project leads the objectives their
partner leads and their own alerts; administrators everything, and people's accounts.
"""

from dataclasses import dataclass

from regia_shared.http.identity import Role

ADMINISTRATOR, OFFICER, LEAD, OBSERVER = Role.ADMINISTRATOR, Role.INSTITUTION_OFFICER, Role.PROJECT_LEAD, Role.OBSERVER

EVERYONE = frozenset(Role)
STAFF = frozenset({ADMINISTRATOR, OBSERVER})  # the operational pages: read by observers too
ADMINS = frozenset({ADMINISTRATOR})  # every write of those pages, and people's accounts
OBJECTIVE_READERS = frozenset({ADMINISTRATOR, OBSERVER, LEAD})  # leads: what their partner leads
INSTITUTION_PAGE = frozenset({ADMINISTRATOR, OBSERVER, OFFICER})  # officers: their own institution
OWN_ALERTS = frozenset({ADMINISTRATOR, OBSERVER, LEAD, OFFICER})  # a contact's own preferences


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str  # an i18n key
    roles: frozenset[Role]


NAV = (
    NavItem("/", "nav_overview", STAFF),
    NavItem("/objectives", "nav_objectives", OBJECTIVE_READERS),
    NavItem("/institution", "nav_institution", frozenset({OFFICER})),
    NavItem("/events", "nav_events", STAFF),
    NavItem("/dead-letters", "nav_undelivered", STAFF),
    NavItem("/poison-events", "nav_poison", STAFF),
    NavItem("/alerts/unaddressed", "nav_unaddressed", STAFF),
    NavItem("/my-alerts", "nav_my_alerts", frozenset({LEAD, OFFICER})),
    NavItem("/accounts", "nav_accounts", ADMINS),
)


def nav_for(role: Role) -> list[NavItem]:
    return [item for item in NAV if role in item.roles]


def home_of(role: Role) -> str:
    """The page a role lands on after logging in."""
    return {OFFICER: "/institution", LEAD: "/objectives"}.get(role, "/")


def may_write(role: Role) -> bool:
    """The operational pages' buttons (retry, replay) and the accounts page: administrators."""
    return role is ADMINISTRATOR
