"""Registry routes under /v1: parse, call the service, shape the response. No logic of their own."""

from __future__ import annotations

import base64
import binascii
import math
import tempfile
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from realname.api.registry_schemas import (
    CapIn,
    ChainOut,
    ChallengeOut,
    FeedbackOut,
    FlashOut,
    HeldNumberOut,
    HintOut,
    IdOut,
    ImportOut,
    InspectionSummaryOut,
    Instruction,
    LoginIn,
    LoginOut,
    OperatorRef,
    OperatorSettingsIn,
    OperatorSettingsOut,
    OutletIn,
    OutletListItem,
    ReasonIn,
    ReceiptOut,
    RegisterIn,
    RegistrationOut,
    ReverificationOut,
    ReviewIn,
    ReviewItemOut,
    StartIn,
    UserIn,
    UserListItem,
    UserOut,
    VerificationIn,
    VerificationOpened,
    VerificationOut,
    VerificationRef,
)
from realname.api.schemas import ErrorResponse
from realname.api.security import Caller, Svc, bearer, secured
from realname.audit.log import verify_chain
from realname.context import Actor, Services
from realname.errors import BadInputError, ImageTooLargeError, LoginThrottledError, VideoError
from realname.images import decode_image, image_size
from realname.liveness.challenges import INSTRUCTIONS, Action
from realname.liveness.video import check_container, read_frames
from realname.operators import admin, auth
from realname.registration import feedback, registrations, verifications
from realname.registry.tables import Person, PhoneNumber, Registration, Verification
from realname.supervision import inspection
from realname.supervision.period import EARLIEST, parse_day

ERRORS = {code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 413, 422, 429)}
router = APIRouter(prefix="/v1", responses=ERRORS)  # type: ignore[arg-type]


def _user(actor: Actor) -> UserOut:
    return UserOut(username=actor.username, role=actor.role, operator_id=actor.operator_id,
                   outlet_id=actor.outlet_id)


@router.post("/auth/login", response_model=LoginOut, tags=["access"])
async def login(body: LoginIn, request: Request, svc: Svc) -> LoginOut | JSONResponse:
    """Throttled per username and per client address (429 ``too_many_logins`` with Retry-After). The address is
    the TCP peer's: behind a reverse proxy, the proxy's (its limit then covers everyone behind it)."""
    client = request.client.host if request.client else None
    try:
        token, expires, actor = await run_in_threadpool(
            lambda: auth.login(svc, body.username, body.password, client=client))
    except LoginThrottledError as exc:
        return JSONResponse({"error": {"code": exc.code, "message": exc.message}}, status_code=exc.http_status,
                            headers={"Retry-After": str(exc.retry_after)})
    return LoginOut(token=token, expires_at=expires, user=_user(actor))


@router.post("/auth/logout", status_code=204, tags=["access"])
async def logout(request: Request, svc: Svc, actor: Caller) -> None:
    await run_in_threadpool(auth.logout, svc, bearer(request) or "")


@router.get("/me", response_model=UserOut, tags=["access"])
async def me(svc: Svc, actor: Caller) -> UserOut:
    """Who is logged in, with the operator's name and the outlet's code and name (shown on every kiosk page)."""
    where = await run_in_threadpool(admin.workplace, svc, actor)
    return _user(actor).model_copy(update=where)


# --- verification ------------------------------------------------------------------------------------------------

def _b64(text: str, field: str, limit: int) -> bytes:
    if len(text) > limit * 4 // 3 + 4:
        raise ImageTooLargeError(f"{field} is over the {limit / 1e6:.1f} MB limit", code="upload_too_large")
    try:
        return base64.b64decode(text.split(",", 1)[-1] if text.startswith("data:") else text, validate=True)
    except (binascii.Error, ValueError):
        raise BadInputError(f"{field} is not valid base64", code="bad_base64") from None


def _instructions(actions: tuple[Action, ...] | list[Action]) -> list[Instruction]:
    return [Instruction(action=a.value, en=INSTRUCTIONS[a][0], zh=INSTRUCTIONS[a][1]) for a in actions]


def _verification_out(svc: Services, v: Verification, advice: list[str] | None = None) -> VerificationOut:
    return VerificationOut(id=v.id, purpose=v.purpose, status=v.status, decision=v.decision, reasons=v.reasons,
                           advice=advice or [], retries_left=verifications.retries_left(svc, v),
                           capture_deadline=verifications.capture_deadline(svc, v))


@router.post("/verifications", response_model=VerificationOpened, status_code=201, tags=["verification"],
             **secured("verifications.open", body="open"))
async def open_verification(body: VerificationIn, svc: Svc, actor: Caller) -> VerificationOpened:
    portrait = _b64(body.portrait, "portrait", svc.settings.max_portrait_bytes)
    opened = await run_in_threadpool(
        lambda: verifications.open_verification(svc, actor, body.card, portrait,
                                                consent=body.consent_face_processing, purpose=body.purpose,
                                                representative=body.representative))
    return VerificationOpened(
        id=opened.verification.id, person_number=opened.document.display_number,
        challenge=ChallengeOut(token=opened.challenge, actions=_instructions(opened.actions),
                               expires_at=opened.expires_at,
                               flash=[FlashOut(color=f"#{f.hex}", ms=f.ms) for f in opened.flashes] or None))


@router.post("/verifications/{verification_id}/start", response_model=VerificationOut, tags=["verification"],
             **secured("verifications.capture"))
async def start_capture(verification_id: str, body: StartIn, svc: Svc, actor: Caller) -> VerificationOut:
    v = await run_in_threadpool(verifications.start_capture, svc, actor, verification_id, body.challenge)
    return _verification_out(svc, v)


async def _read_limited(upload: UploadFile, limit: int, field: str) -> bytes:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise ImageTooLargeError(f"{field} is over the {limit / 1e6:.1f} MB limit", code="upload_too_large")
    return data


@router.post("/verifications/{verification_id}/capture", response_model=VerificationOut, tags=["verification"],
             **secured("verifications.capture", body="capture"))
async def submit_capture(
    verification_id: str, svc: Svc, actor: Caller,
    video: Annotated[UploadFile | None, File(description="the recorded live check (MP4/MOV, WebM/Matroska, Y4M, "
                                                         "AVI)")] = None,
    frames: Annotated[list[UploadFile] | None, File(description="or: JPEG/PNG frames in order")] = None,
    timestamps: Annotated[str | None, Form(description="with frames: capture times in seconds, comma-separated")]
    = None,
    flash_times: Annotated[str | None, Form(description="when the challenge has screen colours: the time each "
                                            "appeared, seconds, comma-separated, on the clock of the frame "
                                            "timestamps (from the video's start for a video)")] = None,
) -> VerificationOut:
    """The live check's capture. Sizes are checked from the headers before anything is decoded, and frames are
    decoded one at a time only after the verification has been found and claimed for this caller."""
    settings = svc.settings
    flash = _seconds(flash_times, "flash_times", code="bad_flash_times") if flash_times else None
    if video is not None:
        data = await _read_limited(video, settings.max_capture_bytes, "video")
        check_container(data)  # before OpenCV/FFmpeg sees a byte: a playlist could make it read server files
        with tempfile.TemporaryDirectory(prefix="realname-") as tmp:
            path = Path(tmp) / "capture"
            path.write_bytes(data)
            del data
            clip = read_frames(path, max_pixels=settings.max_image_pixels, max_frames=settings.max_frames)
            try:
                v, outcome = await run_in_threadpool(verifications.submit_capture, svc, actor, verification_id, clip,
                                                     flash)
            except VideoError as exc:  # the reader names its file: a server path the caller must not see
                raise VideoError(exc.message.replace(str(path), "the uploaded video"), code=exc.code) from None
        return _verification_out(svc, v, outcome.advice)
    if not frames:
        raise BadInputError("send the capture as 'video', or as 'frames' with 'timestamps'", code="missing_capture")
    if len(frames) > settings.max_frames:
        raise BadInputError(f"at most {settings.max_frames} frames", code="too_many_frames")
    times = _seconds(timestamps, "timestamps")
    if len(times) != len(frames):
        raise BadInputError(f"{len(frames)} frames but {len(times)} timestamps", code="bad_timestamps")
    blobs, total_bytes, total_pixels = [], 0, 0
    for i, f in enumerate(frames):
        data = await _read_limited(f, settings.max_upload_bytes, f"frame {i}")
        total_bytes += len(data)
        if total_bytes > settings.max_capture_bytes:
            raise ImageTooLargeError(f"the frames are over the {settings.max_capture_bytes / 1e6:.1f} MB limit",
                                     code="upload_too_large")
        width, height = image_size(data, name=f"frame {i}", max_bytes=settings.max_upload_bytes,
                                   max_pixels=settings.max_image_pixels)
        total_pixels += width * height
        if total_pixels > settings.max_capture_pixels:
            raise ImageTooLargeError(f"the frames hold over {settings.max_capture_pixels / 1e6:.0f} megapixels "
                                     "together: send fewer or smaller frames", code="too_many_pixels")
        blobs.append(data)
    decoded = ((decode_image(data, name=f"frame {i}", max_bytes=settings.max_upload_bytes,
                             max_pixels=settings.max_image_pixels), t)
               for i, (data, t) in enumerate(zip(blobs, times, strict=True)))
    v, outcome = await run_in_threadpool(verifications.submit_capture, svc, actor, verification_id, decoded, flash)
    return _verification_out(svc, v, outcome.advice)


def _seconds(text: str | None, field: str, code: str = "bad_timestamps") -> list[float]:
    try:
        times = [float(t) for t in (text or "").split(",") if t.strip()]
    except ValueError:
        raise BadInputError(f"{field} must be numbers in seconds, comma-separated", code=code) from None
    if not all(math.isfinite(t) for t in times):
        raise BadInputError(f"{field} must be finite numbers of seconds", code=code)
    return times


@router.get("/verifications/{verification_id}", response_model=VerificationOut, tags=["verification"],
            **secured("verifications.read"))
async def get_verification(verification_id: str, svc: Svc, actor: Caller) -> VerificationOut:
    v = await run_in_threadpool(verifications.get_verification, svc, actor, verification_id)
    return _verification_out(svc, v)


@router.post("/verifications/{verification_id}/feedback", response_model=FeedbackOut, tags=["verification"],
             **secured("verifications.capture", body="upload"))
async def frame_feedback(
    verification_id: str, svc: Svc, actor: Caller,
    frame: Annotated[UploadFile | None, File(description="one camera frame (JPEG)")] = None,
) -> FeedbackOut:
    """What the customer should fix in this frame (face in the oval, alone, close enough, light). Never a score;
    nothing is stored."""
    if frame is None:
        raise BadInputError("send one camera frame as the multipart field 'frame'", code="missing_frame")
    data = await _read_limited(frame, svc.settings.max_upload_bytes, "frame")

    def run() -> feedback.Feedback:
        image = decode_image(data, name="frame", max_bytes=svc.settings.max_upload_bytes,
                             max_pixels=svc.settings.max_image_pixels)
        return feedback.frame_feedback(svc, actor, verification_id, image)

    got = await run_in_threadpool(run)
    return FeedbackOut(ok=got.ok, hints=[HintOut(code=h.code, en=h.en, zh=h.zh) for h in got.hints])


@router.get("/reviews", response_model=list[ReviewItemOut], tags=["verification"],
            **secured("verifications.review"))
async def review_queue(svc: Svc, actor: Caller) -> list[ReviewItemOut]:
    rows = await run_in_threadpool(verifications.review_queue, svc, actor)
    return [ReviewItemOut(id=r.id, person_number=r.person_number, agent=r.agent, outlet=r.outlet, reasons=r.reasons,
                          decided_at=r.decided_at) for r in rows]


@router.post("/verifications/{verification_id}/review", response_model=VerificationOut, tags=["verification"],
             **secured("verifications.review"))
async def review(verification_id: str, body: ReviewIn, svc: Svc, actor: Caller) -> VerificationOut:
    v = await run_in_threadpool(verifications.review, svc, actor, verification_id, body.decision, body.reason)
    return _verification_out(svc, v)


# --- registrations -----------------------------------------------------------------------------------------------

def _registration_out(svc: Services, reg: Registration) -> RegistrationOut:
    with svc.db.read() as s:
        number = s.get(PhoneNumber, reg.number_id)
        person = s.get(Person, reg.person_id)
        assert number is not None and person is not None
        return RegistrationOut(id=reg.id, msisdn=number.msisdn, status=reg.status, operator_id=reg.operator_id,
                               outlet_id=reg.outlet_id, person_number=person.number_masked,
                               created_at=reg.created_at)


@router.post("/registrations", response_model=RegistrationOut, status_code=201, tags=["registration"],
             **secured("registrations.create"))
async def register(body: RegisterIn, svc: Svc, actor: Caller) -> RegistrationOut:
    reg = await run_in_threadpool(registrations.register, svc, actor, body.verification_id, body.msisdn)
    return _registration_out(svc, reg)


@router.get("/registrations/{registration_id}", response_model=RegistrationOut, tags=["registration"],
            **secured("registrations.read"))
async def get_registration(registration_id: str, svc: Svc, actor: Caller) -> RegistrationOut:
    reg = await run_in_threadpool(registrations.get_registration, svc, actor, registration_id)
    return _registration_out(svc, reg)


@router.get("/registrations/{registration_id}/receipt", response_model=ReceiptOut, tags=["registration"],
            **secured("registrations.create"))
async def receipt(registration_id: str, svc: Svc, actor: Caller) -> ReceiptOut:
    """What the counter prints for the customer: name and document number masked, no biometric data."""
    r = await run_in_threadpool(inspection.receipt, svc, actor, registration_id)
    return ReceiptOut(registration_id=r.registration_id, msisdn=r.msisdn, operator_name=r.operator_name,
                      outlet_name=r.outlet_name, agent=r.agent, person_number=r.person_number,
                      name_masked=r.name_masked, doc_type=r.doc_type, created_at=r.created_at, status=r.status)


@router.post("/registrations/{registration_id}/cancel", response_model=RegistrationOut, tags=["registration"],
             **secured("registrations.cancel"))
async def cancel(registration_id: str, body: ReasonIn, svc: Svc, actor: Caller) -> RegistrationOut:
    reg = await run_in_threadpool(registrations.cancel, svc, actor, registration_id, body.reason)
    return _registration_out(svc, reg)


@router.post("/registrations/{registration_id}/transfer", response_model=RegistrationOut, tags=["registration"],
             **secured("registrations.transfer"))
async def transfer(registration_id: str, body: VerificationRef, svc: Svc, actor: Caller) -> RegistrationOut:
    reg = await run_in_threadpool(registrations.transfer, svc, actor, registration_id, body.verification_id)
    return _registration_out(svc, reg)


@router.post("/registrations/{registration_id}/reverifications", response_model=ReverificationOut,
             status_code=201, tags=["registration"], **secured("reverifications.order"))
async def order_reverification(registration_id: str, body: ReasonIn, svc: Svc, actor: Caller) -> ReverificationOut:
    o = await run_in_threadpool(registrations.order_reverification, svc, actor, registration_id, body.reason)
    return ReverificationOut(id=o.id, registration_id=o.registration_id, status=o.status, deadline=o.deadline)


@router.post("/reverifications/{order_id}/complete", response_model=ReverificationOut, tags=["registration"],
             **secured("reverifications.complete"))
async def complete_reverification(order_id: str, body: VerificationRef, svc: Svc, actor: Caller
                                  ) -> ReverificationOut:
    o = await run_in_threadpool(registrations.complete_reverification, svc, actor, order_id, body.verification_id)
    return ReverificationOut(id=o.id, registration_id=o.registration_id, status=o.status, deadline=o.deadline)


@router.post("/numbers/mine", response_model=list[HeldNumberOut], tags=["registration"],
             **secured("registrations.lookup_mine"))
async def numbers_mine(body: VerificationRef, svc: Svc, actor: Caller) -> list[HeldNumberOut]:
    held = await run_in_threadpool(registrations.numbers_of, svc, actor, body.verification_id)
    return [HeldNumberOut(msisdn=h.msisdn, operator=h.operator, status=h.status, since=h.since) for h in held]


# --- operator settings and administration ------------------------------------------------------------------------

def _operator_settings_out(svc: Services, actor: Actor) -> OperatorSettingsOut:
    op, settings = admin.operator_view(svc, actor)
    return OperatorSettingsOut(cap_per_person=op.cap_per_person, **settings.model_dump(),
                               operator=OperatorRef(id=op.id, code=op.code, name=op.name))


@router.get("/operator/settings", response_model=OperatorSettingsOut, tags=["admin"], **secured("operator.read"))
async def operator_settings(svc: Svc, actor: Caller) -> OperatorSettingsOut:
    return await run_in_threadpool(_operator_settings_out, svc, actor)


@router.put("/admin/settings", response_model=OperatorSettingsOut, tags=["admin"], **secured("admin.manage"))
async def update_settings(body: OperatorSettingsIn, svc: Svc, actor: Caller) -> OperatorSettingsOut:
    """Change any of the operator's settings; each change is audited (settings_changed, cap_changed)."""
    changes = body.model_dump(exclude_none=True)
    cap = changes.pop("cap_per_person", None)

    def run() -> OperatorSettingsOut:
        if changes:
            admin.update_operator_settings(svc, actor, changes)
        if cap is not None:
            admin.set_cap(svc, actor, cap)
        return _operator_settings_out(svc, actor)

    return await run_in_threadpool(run)


@router.get("/admin/outlets", response_model=list[OutletListItem], tags=["admin"], **secured("admin.manage"))
async def list_outlets(svc: Svc, actor: Caller) -> list[OutletListItem]:
    rows = await run_in_threadpool(admin.list_outlets, svc, actor)
    return [OutletListItem(id=o.id, code=o.code, name=o.name, region=o.region, active=o.active) for o in rows]


@router.get("/admin/users", response_model=list[UserListItem], tags=["admin"], **secured("admin.manage"))
async def list_users(svc: Svc, actor: Caller) -> list[UserListItem]:
    rows = await run_in_threadpool(admin.list_users, svc, actor)
    return [UserListItem(id=u.id, username=u.username, role=u.role, outlet_id=u.outlet_id, active=u.active,
                         blacklisted=u.blacklisted, blacklist_reason=u.blacklist_reason) for u in rows]


@router.post("/admin/users/{user_id}/disable", response_model=IdOut, tags=["admin"], **secured("admin.manage"))
async def disable_user(user_id: str, svc: Svc, actor: Caller) -> IdOut:
    u = await run_in_threadpool(lambda: admin.set_user_state(svc, actor, user_id, active=False))
    return IdOut(id=u.id)


@router.post("/admin/users/{user_id}/enable", response_model=IdOut, tags=["admin"], **secured("admin.manage"))
async def enable_user(user_id: str, svc: Svc, actor: Caller) -> IdOut:
    u = await run_in_threadpool(lambda: admin.set_user_state(svc, actor, user_id, active=True))
    return IdOut(id=u.id)


# --- administration ----------------------------------------------------------------------------------------------

@router.post("/admin/outlets", response_model=IdOut, status_code=201, tags=["admin"], **secured("admin.manage"))
async def create_outlet(body: OutletIn, svc: Svc, actor: Caller) -> IdOut:
    o = await run_in_threadpool(admin.create_outlet, svc, actor, body.code, body.name, body.region)
    return IdOut(id=o.id)


@router.post("/admin/users", response_model=IdOut, status_code=201, tags=["admin"], **secured("admin.manage"))
async def create_user(body: UserIn, svc: Svc, actor: Caller) -> IdOut:
    u = await run_in_threadpool(lambda: admin.create_user(svc, actor, body.username, body.password, body.role,
                                                          outlet_id=body.outlet_id))
    return IdOut(id=u.id)


@router.post("/admin/users/{user_id}/blacklist", response_model=IdOut, tags=["admin"], **secured("admin.manage"))
async def blacklist(user_id: str, body: ReasonIn, svc: Svc, actor: Caller) -> IdOut:
    u = await run_in_threadpool(lambda: admin.set_user_state(svc, actor, user_id, blacklisted=True,
                                                             reason=body.reason))
    return IdOut(id=u.id)


@router.post("/admin/users/{user_id}/unblacklist", response_model=IdOut, tags=["admin"], **secured("admin.manage"))
async def unblacklist(user_id: str, body: ReasonIn, svc: Svc, actor: Caller) -> IdOut:
    """Lift a blacklist, with the reason (audited); an account disabled before stays disabled."""
    u = await run_in_threadpool(admin.lift_blacklist, svc, actor, user_id, body.reason)
    return IdOut(id=u.id)


@router.put("/admin/cap", response_model=IdOut, tags=["admin"], **secured("admin.manage"))
async def set_cap(body: CapIn, svc: Svc, actor: Caller) -> IdOut:
    op = await run_in_threadpool(admin.set_cap, svc, actor, body.cap_per_person)
    return IdOut(id=op.id)


@router.post("/admin/numbers", response_model=ImportOut, tags=["admin"], **secured("numbers.import", body="upload"))
async def import_numbers(svc: Svc, actor: Caller,
                         file: Annotated[UploadFile | None, File(description="CSV with an msisdn column")] = None
                         ) -> ImportOut:
    if file is None:
        raise BadInputError("upload the CSV as the multipart field 'file'", code="missing_file")
    data = await _read_limited(file, svc.settings.max_upload_bytes, "file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInputError("the CSV must be UTF-8", code="bad_csv") from None
    r = await run_in_threadpool(admin.import_numbers, svc, actor, text)
    return ImportOut(added=r.added, skipped_existing=r.skipped_existing)


@router.get("/audit/verify", response_model=ChainOut, tags=["audit"], **secured("audit.verify"))
async def audit_verify(svc: Svc, actor: Caller) -> ChainOut:
    def run() -> ChainOut:
        with svc.db.read() as s:
            r = verify_chain(s)
        return ChainOut(ok=r.ok, count=r.count, last_hash=r.last_hash, first_bad_seq=r.first_bad_seq,
                        problem=r.problem, detail=r.detail)
    return await run_in_threadpool(run)


# --- inspection --------------------------------------------------------------------------------------------------

BAD_INPUT_ERROR = "realname_bad_input"  # a BadInputError raised in a validator: the 422 handler answers its code


def _day(value: object) -> date:
    """Every query day goes through the one parser (strict YYYY-MM-DD, in range, code ``bad_date``): pydantic's
    own date type takes 0 as 1970-01-01 and any year up to 9999, which overflowed the period's bounds (a 500)."""
    try:
        return parse_day(value if isinstance(value, str) else repr(value), "the day")
    except BadInputError as exc:
        raise PydanticCustomError(BAD_INPUT_ERROR, "{message}", {"code": exc.code, "message": exc.message}) from None


_DAY_HELP = (f"local date (operator time zone), YYYY-MM-DD, inclusive, from {EARLIEST.isoformat()} to a year "
             "after today")
Day = Annotated[date | None, BeforeValidator(_day), Query(description=_DAY_HELP)]
RequiredDay = Annotated[date, BeforeValidator(_day), Query(description=_DAY_HELP)]


@router.get("/inspect/summary", response_model=InspectionSummaryOut, tags=["inspection"],
            **secured("inspect.read"))
async def inspect_summary(svc: Svc, actor: Caller, start: Day = None, end: Day = None) -> InspectionSummaryOut:
    """Counts for a period (default: the last 30 days; at most 366) and the audit chain's state. Inspectors and
    auditors see every operator, an operator's administrator its own. Audited."""
    got = await run_in_threadpool(inspection.summary, svc, actor, start, end)
    return InspectionSummaryOut.model_validate(asdict(got))


@router.get("/inspect/registrations.csv", response_class=StreamingResponse, tags=["inspection"],
            responses={200: {"content": {"text/csv": {}}, "description": "UTF-8 CSV with a BOM, masked data"}},
            **secured("inspect.read"))
async def inspect_registrations_csv(svc: Svc, actor: Caller, start: RequiredDay, end: RequiredDay
                                    ) -> StreamingResponse:
    """The period's registrations as CSV (streamed; header in Chinese and English; masked data only). An export
    names its period: ``start`` and ``end`` are required (at most 366 days). Audited."""
    period, chunks = await run_in_threadpool(inspection.registrations_csv, svc, actor, start, end)
    name = f"registrations_{period.start.isoformat()}_{period.end.isoformat()}.csv"
    return StreamingResponse(chunks, media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})
