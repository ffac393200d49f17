"""The health probe: the version and the configured face engine, without touching the database or the models."""

from __future__ import annotations

from fastapi import APIRouter

from realname import __version__
from realname.api.deps import Service
from realname.api.schemas import Health

router = APIRouter()


@router.get("/healthz", response_model=Health)
async def healthz(service: Service) -> Health:
    # async: nothing here blocks, and the probe must answer even when every thread of the pool is busy.
    return Health(status="ok", version=__version__, engine=service.settings.engine)
