"""The audit trail under /v1/audit: its check, the transparency log's signed tree heads and public keys, and the
proofs an inspector checks offline (``realname audit check-proof``, ``realname witness``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from realname.api.registry_schemas import ChainOut
from realname.api.schemas import V1_ERRORS
from realname.api.security import Caller, Svc, secured
from realname.audit.tree_heads import keys_document
from realname.errors import NotFoundError
from realname.supervision import transparency
from realname.supervision.inspection import chain_status

router = APIRouter(prefix="/v1", responses=V1_ERRORS, tags=["audit"])

Size = Annotated[int, Query(ge=0, le=2**62, description="a published tree head's size (events)")]


@router.get("/audit/verify", response_model=ChainOut, **secured("audit.verify"))
def audit_verify(svc: Svc, actor: Caller) -> ChainOut:
    r = chain_status(svc)
    return ChainOut(ok=r.ok, count=r.count, last_hash=r.last_hash, first_bad_seq=r.first_bad_seq,
                    problem=r.problem, detail=r.detail)


@router.get("/audit/head", **secured("compliance.read"))
def audit_head(svc: Svc, actor: Caller) -> dict[str, Any]:
    """The latest signed tree head (STH): what a regulator's witness adds (with a consistency proof)."""
    head = transparency.latest_head(svc)
    if head is None:
        raise NotFoundError("no tree head was published yet", code="no_tree_head")
    return head.as_dict()


@router.get("/audit/log-keys", **secured("compliance.read"))
def audit_log_keys(svc: Svc, actor: Caller) -> dict[str, Any]:
    """The log's Ed25519 public keys, old ones included."""
    return keys_document(transparency.log_keys(svc))


@router.get("/audit/proof/{registration_id}", **secured("compliance.read"))
def audit_proof(svc: Svc, actor: Caller, registration_id: str) -> dict[str, Any]:
    """The registration's audit events with inclusion proofs against a signed tree head (checked offline with
    ``realname audit check-proof FILE --key KEYS``)."""
    return transparency.prove_registration(svc, actor, registration_id)


@router.get("/audit/consistency", **secured("compliance.read"))
def audit_consistency(svc: Svc, actor: Caller, old: Size, new: Size | None = None) -> dict[str, Any]:
    """The consistency proof from the published head of size ``old`` to that of size ``new`` (default: the
    latest)."""
    return transparency.prove_consistency(svc, actor, old, new)
