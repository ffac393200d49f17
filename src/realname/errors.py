"""One exception tree for the whole package.

    RealnameError                      base; ``code`` is a stable machine-readable string
    ├── BadInputError                  the caller sent something unusable (exit 2, HTTP 4xx)
    │   ├── ImageError                 not an image, empty, truncated, unsupported pixel format
    │   │   └── ImageTooLargeError     over the byte or megapixel limit (HTTP 413)
    │   ├── NoFaceError                no usable face in an image that needs one
    │   ├── FaceQualityError           a face unfit to compare (cut off by the border): retake, never a decision
    │   ├── DataSourceError            a pairs file / manifest / dataset folder that cannot be read
    │   ├── VideoError                 a clip that cannot be read, or holds no frames
    │   ├── ChallengeError             a liveness challenge that is expired, altered, reused or malformed
    │   ├── DocumentError              an identity document or phone number that breaks a rule (names the field)
    │   ├── NotFoundError              a record that does not exist (HTTP 404)
    │   ├── ConflictError              a state that forbids the request: number taken, session used (HTTP 409)
    │   │   └── CapExceededError       a per-person cap would be exceeded (names the cap)
    │   ├── LockedError                too many failed attempts; retry later (HTTP 429)
    │   │   └── LoginThrottledError    too many failed logins for a username or a client (``retry_after`` seconds)
    │   ├── AuthError                  not logged in, bad password or expired token (HTTP 401)
    │   └── ForbiddenError             logged in, but the role may not do this (HTTP 403)
    │       └── AttestationError       a device's proof that does not hold: unenrolled or revoked kiosk, another
    │                                  outlet's kiosk, an assertion or a reader signature over other data
    ├── IntegrityError                 stored data fails a check: audit chain broken, undecryptable field
    ├── ModelError                     a model file is missing or altered (names the package to install)
    └── ConfigError                    settings or thresholds file invalid

Every error carries an English ``message`` written for the caller, and a ``code`` that API clients can
branch on; the API turns them into JSON ``{"error": {"code": ..., "message": ...}}``.
"""

from __future__ import annotations


class RealnameError(Exception):
    code = "error"
    http_status = 500

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class BadInputError(RealnameError):
    code = "bad_input"
    http_status = 422


class ImageError(BadInputError):
    code = "bad_image"


class ImageTooLargeError(ImageError):
    code = "image_too_large"
    http_status = 413


class NoFaceError(BadInputError):
    code = "no_face"


class FaceQualityError(BadInputError):
    """A face found but unfit to compare; ``code`` is the quality finding's (``face_cut_off``), ``photo`` says
    which picture ("document photo" or "live photo")."""

    def __init__(self, message: str, *, code: str, photo: str) -> None:
        super().__init__(message, code=code)
        self.photo = photo


class DataSourceError(BadInputError):
    code = "bad_data_source"


class VideoError(BadInputError):
    code = "bad_video"


class ChallengeError(BadInputError):
    code = "challenge_invalid"
    http_status = 403


class DocumentError(BadInputError):
    """A document field that breaks a rule. ``field`` and ``rule`` are stable; ``message_zh`` is for the counter."""

    code = "invalid_document"

    def __init__(self, message: str, *, field: str, rule: str, message_zh: str = "", code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field
        self.rule = rule
        self.message_zh = message_zh or message


class NotFoundError(BadInputError):
    code = "not_found"
    http_status = 404


class ConflictError(BadInputError):
    code = "conflict"
    http_status = 409


class CapExceededError(ConflictError):
    code = "cap_exceeded"

    def __init__(self, message: str, *, cap: str, limit: int) -> None:
        super().__init__(message)
        self.cap = cap
        self.limit = limit


class LockedError(BadInputError):
    code = "too_many_attempts"
    http_status = 429


class LoginThrottledError(LockedError):
    code = "too_many_logins"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after  # whole seconds, for the Retry-After header


class AuthError(BadInputError):
    code = "not_authenticated"
    http_status = 401


class ForbiddenError(BadInputError):
    code = "forbidden"
    http_status = 403


class AttestationError(ForbiddenError):
    """A kiosk's WebAuthn assertion or a card reader's signature that does not prove what the request claims."""

    code = "attestation_invalid"


class IntegrityError(RealnameError):
    code = "integrity_failure"


class ModelError(RealnameError):
    code = "model_unavailable"
    http_status = 503


class ConfigError(RealnameError):
    code = "bad_config"
