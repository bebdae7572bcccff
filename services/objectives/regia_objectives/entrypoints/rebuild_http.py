"""Rebuilding projections over HTTP (administrators): `POST /v1/admin/rebuild/coverage`.
What a rebuild does is service_layer/coverage_rebuild.py's to say."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from regia_shared.http.auth import require_admin
from regia_shared.http.dependencies import DatabasePool

from ..service_layer.coverage_rebuild import rebuild_coverage
from .read_models import CoverageRebuilt


def rebuild_router() -> APIRouter:
    router = APIRouter(prefix="/v1/admin", tags=["admin"])

    @router.post("/rebuild/coverage", dependencies=[Depends(require_admin)], response_model=CoverageRebuilt)
    async def post_rebuild_coverage(
        pool: DatabasePool, from_scratch: Annotated[bool, Query(description="delete the coverage rows first")] = False
    ) -> dict:
        """Recompute the coverage of every objective-year from the funding lines held."""
        return await rebuild_coverage(pool, from_scratch=from_scratch)

    return router
