"""The compliance evidence under /v1/compliance: face data held, retention runs, key age, the audit chain,
consent coverage and the settings that matter to the regulator."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from realname.api.schemas import V1_ERRORS
from realname.api.security import Caller, Svc, secured
from realname.supervision.compliance import compliance

router = APIRouter(prefix="/v1", responses=V1_ERRORS, tags=["supervision"])


@router.get("/compliance", response_model=dict[str, Any], **secured("compliance.read"))
def compliance_evidence(svc: Svc, actor: Caller) -> dict[str, Any]:
    """Face data vs the filing threshold, retention runs, key age, audit chain, consent coverage, settings."""
    got = compliance(svc, actor)
    return {**got.as_dict(), "problems": got.problems}
