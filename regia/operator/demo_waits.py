"""What every part of the demo's loading does alike: treat "already there" as done, and wait
for a service to learn what another announced. Its own module so that the demo's parts
(demo, demo_funders) can share it without importing each other."""

import time

from .admin import AdminError, ServiceClient

ALREADY_THERE = (200, 201, 204, 409)  # a re-run meets what the first run made: not an error


def wait_until_funder_known(funding: ServiceClient, institution: str, timeout: float) -> None:
    """Funding learns institutions from partner events, asynchronously: wait for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        known = funding.request("GET", "/v1/institutions", ok=(200,)).json()
        if any(row.get("institution_id") == institution for row in known):
            return
        time.sleep(0.5)
    raise AdminError(
        f"the funding service has not learnt {institution!r} from the partner events "
        f"after {timeout:.0f}s: see the partners and funding logs"
    )


def wait_until_known(funding: ServiceClient, path: str, what: str, timeout: float) -> None:
    """Funding learns objectives from the objectives service's events: wait for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if funding.request("GET", path, ok=(200, 404)).status_code == 200:
            return
        time.sleep(0.5)
    raise AdminError(
        f"the funding service has not learnt {what} after {timeout:.0f}s: see the objectives and funding logs"
    )


def wait_until_partners_know(partners: ServiceClient, objective_id: str, timeout: float) -> None:
    """The partners service puts leads and roles only on objectives it knows, and learns
    them from the objectives service's events, asynchronously: wait for it (a lead or role
    sent before that is refused with 404 objective_not_found)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if partners.request("GET", f"/v1/objectives/{objective_id}", ok=(200, 404)).status_code == 200:
            return
        time.sleep(0.5)
    raise AdminError(
        f"the partners service has not learnt objective {objective_id!r} after {timeout:.0f}s: "
        "see the objectives and partners logs"
    )
