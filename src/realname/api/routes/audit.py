"""The audit chain's check under /v1/audit."""

from __future__ import annotations

from fastapi import APIRouter

from realname.api.registry_schemas import ChainOut
from realname.api.schemas import V1_ERRORS
from realname.api.security import Caller, Svc, secured
from realname.supervision.inspection import chain_status

router = APIRouter(prefix="/v1", responses=V1_ERRORS, tags=["audit"])


@router.get("/audit/verify", response_model=ChainOut, **secured("audit.verify"))
def audit_verify(svc: Svc, actor: Caller) -> ChainOut:
    r = chain_status(svc)
    return ChainOut(ok=r.ok, count=r.count, last_hash=r.last_hash, first_bad_seq=r.first_bad_seq,
                    problem=r.problem, detail=r.detail)
