"""The partners service's composition root."""

from fastapi import FastAPI

from regia_shared.contracts import topics
from regia_shared.runtime import ServiceRuntime

from .config import PartnersSettings
from .entrypoints import consumers
from .entrypoints.accounts_http import AccountsHolder, accounts_router
from .entrypoints.contacts_http import contacts_router
from .entrypoints.networks_http import networks_router
from .entrypoints.objective_roles_http import objective_roles_router
from .entrypoints.partners_http import partners_router
from .entrypoints.preference_links_http import preference_links_router
from .entrypoints.preferences_http import preferences_router


def create_app(settings: PartnersSettings | None = None) -> FastAPI:
    runtime = ServiceRuntime(
        name="partners",
        settings=settings or PartnersSettings(),
        migrations_package="regia_partners",
        publishes=[topics.PARTNERS],
        # Partner facts are born here; it hears which objectives exist (leads and roles go
        # only on those) and the leads and roles an imported plan file declares
        # (entrypoints.consumers).
        consumes=[topics.OBJECTIVES],
    )
    consumers.register(runtime)
    app = runtime.http_app(title="Regia partners")
    # In this order, the API documents list the routes as they always have.
    app.include_router(partners_router(runtime.registry))
    app.include_router(contacts_router())
    app.include_router(objective_roles_router())
    app.include_router(preferences_router())
    app.include_router(networks_router())
    app.include_router(preference_links_router())
    app.include_router(accounts_router(AccountsHolder(runtime)))
    return app
