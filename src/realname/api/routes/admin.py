"""An operator's settings and administration under /v1: settings and the per-person cap, outlets, users (create,
disable, blacklist) and the number stock."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile

from realname.api.deps import read_limited
from realname.api.registry_schemas import (
    CapIn,
    IdOut,
    ImportOut,
    OperatorRef,
    OperatorSettingsIn,
    OperatorSettingsOut,
    OutletIn,
    OutletListItem,
    ReasonIn,
    UserIn,
    UserListItem,
)
from realname.api.schemas import V1_ERRORS
from realname.api.security import Caller, Svc, secured
from realname.context import Actor, Services
from realname.errors import BadInputError
from realname.operators import admin

router = APIRouter(prefix="/v1", responses=V1_ERRORS, tags=["admin"])


def _operator_settings_out(svc: Services, actor: Actor) -> OperatorSettingsOut:
    op, settings = admin.operator_view(svc, actor)
    return OperatorSettingsOut(cap_per_person=op.cap_per_person, **settings.model_dump(),
                               operator=OperatorRef(id=op.id, code=op.code, name=op.name))


@router.get("/operator/settings", response_model=OperatorSettingsOut, **secured("operator.read"))
def operator_settings(svc: Svc, actor: Caller) -> OperatorSettingsOut:
    return _operator_settings_out(svc, actor)


@router.put("/admin/settings", response_model=OperatorSettingsOut, **secured("admin.manage"))
def update_settings(body: OperatorSettingsIn, svc: Svc, actor: Caller) -> OperatorSettingsOut:
    """Change any of the operator's settings; each change is audited (settings_changed, cap_changed)."""
    changes = body.model_dump(exclude_none=True)
    cap = changes.pop("cap_per_person", None)
    if changes:
        admin.update_operator_settings(svc, actor, changes)
    if cap is not None:
        admin.set_cap(svc, actor, cap)
    return _operator_settings_out(svc, actor)


@router.get("/admin/outlets", response_model=list[OutletListItem], **secured("admin.manage"))
def list_outlets(svc: Svc, actor: Caller) -> list[OutletListItem]:
    rows = admin.list_outlets(svc, actor)
    return [OutletListItem(id=o.id, code=o.code, name=o.name, region=o.region, active=o.active) for o in rows]


@router.get("/admin/users", response_model=list[UserListItem], **secured("admin.manage"))
def list_users(svc: Svc, actor: Caller) -> list[UserListItem]:
    rows = admin.list_users(svc, actor)
    return [UserListItem(id=u.id, username=u.username, role=u.role, outlet_id=u.outlet_id, active=u.active,
                         blacklisted=u.blacklisted, blacklist_reason=u.blacklist_reason) for u in rows]


@router.post("/admin/users/{user_id}/disable", response_model=IdOut, **secured("admin.manage"))
def disable_user(user_id: str, svc: Svc, actor: Caller) -> IdOut:
    return IdOut(id=admin.set_user_state(svc, actor, user_id, active=False).id)


@router.post("/admin/users/{user_id}/enable", response_model=IdOut, **secured("admin.manage"))
def enable_user(user_id: str, svc: Svc, actor: Caller) -> IdOut:
    return IdOut(id=admin.set_user_state(svc, actor, user_id, active=True).id)


@router.post("/admin/outlets", response_model=IdOut, status_code=201, **secured("admin.manage"))
def create_outlet(body: OutletIn, svc: Svc, actor: Caller) -> IdOut:
    return IdOut(id=admin.create_outlet(svc, actor, body.code, body.name, body.region).id)


@router.post("/admin/users", response_model=IdOut, status_code=201, **secured("admin.manage"))
def create_user(body: UserIn, svc: Svc, actor: Caller) -> IdOut:
    u = admin.create_user(svc, actor, body.username, body.password, body.role, outlet_id=body.outlet_id)
    return IdOut(id=u.id)


@router.post("/admin/users/{user_id}/blacklist", response_model=IdOut, **secured("admin.manage"))
def blacklist(user_id: str, body: ReasonIn, svc: Svc, actor: Caller) -> IdOut:
    return IdOut(id=admin.set_user_state(svc, actor, user_id, blacklisted=True, reason=body.reason).id)


@router.post("/admin/users/{user_id}/unblacklist", response_model=IdOut, **secured("admin.manage"))
def unblacklist(user_id: str, body: ReasonIn, svc: Svc, actor: Caller) -> IdOut:
    """Lift a blacklist, with the reason (audited); an account disabled before stays disabled."""
    return IdOut(id=admin.lift_blacklist(svc, actor, user_id, body.reason).id)


@router.put("/admin/cap", response_model=IdOut, **secured("admin.manage"))
def set_cap(body: CapIn, svc: Svc, actor: Caller) -> IdOut:
    return IdOut(id=admin.set_cap(svc, actor, body.cap_per_person).id)


@router.post("/admin/numbers", response_model=ImportOut, **secured("numbers.import", body="upload"))
def import_numbers(svc: Svc, actor: Caller,
                   file: Annotated[UploadFile | None, File(description="CSV with an msisdn column")] = None
                   ) -> ImportOut:
    if file is None:
        raise BadInputError("upload the CSV as the multipart field 'file'", code="missing_file")
    data = read_limited(file, svc.settings.max_upload_bytes, "file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInputError("the CSV must be UTF-8", code="bad_csv") from None
    r = admin.import_numbers(svc, actor, text)
    return ImportOut(added=r.added, skipped_existing=r.skipped_existing)
