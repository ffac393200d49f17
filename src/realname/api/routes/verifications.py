"""A live verification under /v1/verifications: open it (document, portrait, consent: a challenge comes back),
start the capture, send the capture (a video or frames), live feedback on single frames, and the supervisor's
review queue and decision."""

from __future__ import annotations

import base64
import binascii
import math
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, File, Form, UploadFile

from realname.api.deps import read_limited
from realname.api.registry_schemas import (
    ChallengeOut,
    FeedbackOut,
    FlashOut,
    HintOut,
    Instruction,
    ReviewIn,
    ReviewItemOut,
    StartIn,
    VerificationIn,
    VerificationOpened,
    VerificationOut,
)
from realname.api.schemas import V1_ERRORS
from realname.api.security import Caller, Svc, secured
from realname.errors import BadInputError, ImageTooLargeError, VideoError
from realname.images import decode_image, image_size
from realname.liveness.challenges import INSTRUCTIONS, Action
from realname.liveness.video import check_container, read_frames
from realname.registration import feedback, verifications

router = APIRouter(prefix="/v1", responses=V1_ERRORS, tags=["verification"])


class VerificationRecord(Protocol):
    """What a response shows of a verification a use case returns."""

    @property
    def id(self) -> str: ...
    @property
    def purpose(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def decision(self) -> str | None: ...
    @property
    def reasons(self) -> list[Any]: ...


def _verification_out(v: VerificationRecord, retries_left: int | None, capture_deadline: datetime | None,
                      advice: list[str] | None = None) -> VerificationOut:
    """The response; the caller passes ``verifications.retries_left`` and ``capture_deadline`` of ``v``."""
    return VerificationOut(id=v.id, purpose=v.purpose, status=v.status, decision=v.decision, reasons=v.reasons,
                           advice=advice or [], retries_left=retries_left, capture_deadline=capture_deadline)


def _b64(text: str, field: str, limit: int) -> bytes:
    if len(text) > limit * 4 // 3 + 4:
        raise ImageTooLargeError(f"{field} is over the {limit / 1e6:.1f} MB limit", code="upload_too_large")
    try:
        return base64.b64decode(text.split(",", 1)[-1] if text.startswith("data:") else text, validate=True)
    except (binascii.Error, ValueError):
        raise BadInputError(f"{field} is not valid base64", code="bad_base64") from None


def _instructions(actions: tuple[Action, ...] | list[Action]) -> list[Instruction]:
    return [Instruction(action=a.value, en=INSTRUCTIONS[a][0], zh=INSTRUCTIONS[a][1]) for a in actions]


def _seconds(text: str | None, field: str, code: str = "bad_timestamps") -> list[float]:
    try:
        times = [float(t) for t in (text or "").split(",") if t.strip()]
    except ValueError:
        raise BadInputError(f"{field} must be numbers in seconds, comma-separated", code=code) from None
    if not all(math.isfinite(t) for t in times):
        raise BadInputError(f"{field} must be finite numbers of seconds", code=code)
    return times


@router.post("/verifications", response_model=VerificationOpened, status_code=201,
             **secured("verifications.open", body="open", kiosk=True))
def open_verification(body: VerificationIn, svc: Svc, actor: Caller) -> VerificationOpened:
    portrait = _b64(body.portrait, "portrait", svc.settings.max_portrait_bytes)
    opened = verifications.open_verification(svc, actor, body.card, portrait, consent=body.consent_face_processing,
                                             purpose=body.purpose, representative=body.representative)
    return VerificationOpened(
        id=opened.verification.id, person_number=opened.document.display_number,
        challenge=ChallengeOut(token=opened.challenge, actions=_instructions(opened.actions),
                               expires_at=opened.expires_at,
                               flash=[FlashOut(color=f"#{f.hex}", ms=f.ms) for f in opened.flashes] or None))


@router.post("/verifications/{verification_id}/start", response_model=VerificationOut,
             **secured("verifications.capture", kiosk=True))
def start_capture(verification_id: str, body: StartIn, svc: Svc, actor: Caller) -> VerificationOut:
    v = verifications.start_capture(svc, actor, verification_id, body.challenge)
    return _verification_out(v, verifications.retries_left(svc, v), verifications.capture_deadline(svc, v))


@router.post("/verifications/{verification_id}/capture", response_model=VerificationOut,
             **secured("verifications.capture", body="capture", kiosk=True))
def submit_capture(
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
        data = read_limited(video, settings.max_capture_bytes, "video")
        check_container(data)  # before OpenCV/FFmpeg sees a byte: a playlist could make it read server files
        with tempfile.TemporaryDirectory(prefix="realname-") as tmp:
            path = Path(tmp) / "capture"
            path.write_bytes(data)
            del data
            clip = read_frames(path, max_pixels=settings.max_image_pixels, max_frames=settings.max_frames)
            try:
                v, outcome = verifications.submit_capture(svc, actor, verification_id, clip, flash)
            except VideoError as exc:  # the reader names its file: a server path the caller must not see
                raise VideoError(exc.message.replace(str(path), "the uploaded video"), code=exc.code) from None
        return _verification_out(v, verifications.retries_left(svc, v), verifications.capture_deadline(svc, v),
                                 outcome.advice)
    if not frames:
        raise BadInputError("send the capture as 'video', or as 'frames' with 'timestamps'", code="missing_capture")
    if len(frames) > settings.max_frames:
        raise BadInputError(f"at most {settings.max_frames} frames", code="too_many_frames")
    times = _seconds(timestamps, "timestamps")
    if len(times) != len(frames):
        raise BadInputError(f"{len(frames)} frames but {len(times)} timestamps", code="bad_timestamps")
    blobs, total_bytes, total_pixels = [], 0, 0
    for i, f in enumerate(frames):
        data = read_limited(f, settings.max_upload_bytes, f"frame {i}")
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
    v, outcome = verifications.submit_capture(svc, actor, verification_id, decoded, flash)
    return _verification_out(v, verifications.retries_left(svc, v), verifications.capture_deadline(svc, v),
                             outcome.advice)


@router.get("/verifications/{verification_id}", response_model=VerificationOut, **secured("verifications.read"))
def get_verification(verification_id: str, svc: Svc, actor: Caller) -> VerificationOut:
    v = verifications.get_verification(svc, actor, verification_id)
    return _verification_out(v, verifications.retries_left(svc, v), verifications.capture_deadline(svc, v))


@router.post("/verifications/{verification_id}/feedback", response_model=FeedbackOut,
             **secured("verifications.capture", body="upload"))
def frame_feedback(
    verification_id: str, svc: Svc, actor: Caller,
    frame: Annotated[UploadFile | None, File(description="one camera frame (JPEG)")] = None,
) -> FeedbackOut:
    """What the customer should fix in this frame (face in the oval, alone, close enough, light). Never a score;
    nothing is stored."""
    if frame is None:
        raise BadInputError("send one camera frame as the multipart field 'frame'", code="missing_frame")
    limit = svc.settings.max_upload_bytes
    image = decode_image(read_limited(frame, limit, "frame"), name="frame", max_bytes=limit,
                         max_pixels=svc.settings.max_image_pixels)
    got = feedback.frame_feedback(svc, actor, verification_id, image)
    return FeedbackOut(ok=got.ok, hints=[HintOut(code=h.code, en=h.en, zh=h.zh) for h in got.hints])


@router.get("/reviews", response_model=list[ReviewItemOut], **secured("verifications.review"))
def review_queue(svc: Svc, actor: Caller) -> list[ReviewItemOut]:
    rows = verifications.review_queue(svc, actor)
    return [ReviewItemOut(id=r.id, person_number=r.person_number, agent=r.agent, outlet=r.outlet, reasons=r.reasons,
                          decided_at=r.decided_at) for r in rows]


@router.post("/verifications/{verification_id}/review", response_model=VerificationOut,
             **secured("verifications.review"))
def review(verification_id: str, body: ReviewIn, svc: Svc, actor: Caller) -> VerificationOut:
    v = verifications.review(svc, actor, verification_id, body.decision, body.reason)
    return _verification_out(v, verifications.retries_left(svc, v), verifications.capture_deadline(svc, v))
