"""The API's routes, one module per concern. Each module has a ``router``; :data:`ROUTERS` is the order
:func:`realname.api.app.create_app` includes them in (the order of the OpenAPI document's paths).

Routes are thin: parse the request, call a use case (:mod:`realname.registration`, :mod:`realname.supervision`,
:mod:`realname.operators`) or a query (:mod:`realname.registry.queries`), shape the response. A route that does
blocking work (the database, images, video, files) is a plain ``def``: FastAPI runs it in its thread pool, so the
event loop stays free for other requests. Only routes that never block are ``async def``.
"""

from __future__ import annotations

from fastapi import APIRouter

from realname.api.routes import (
    admin,
    audit,
    auth,
    compliance,
    faces,
    health,
    inspection,
    kiosks,
    operations,
    registrations,
    reports,
    signals,
    verifications,
)

ROUTERS: tuple[APIRouter, ...] = (health.router, operations.router, faces.router, auth.router, verifications.router,
                                  registrations.router, kiosks.router, admin.router, audit.router, inspection.router,
                                  reports.router, signals.router, compliance.router)
