"""Settings from environment variables (prefix ``REALNAME_``) or an env file; built on demand, never at import."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EngineName = Literal["cascade", "fusion", "sface", "dlib", "fake"]


class SignalRules(BaseModel):
    """Fraud-signal thresholds (``REALNAME_SIGNALS__<NAME>``). Each rule is explainable: the evidence behind a
    signal is the rows that crossed these numbers."""

    many_outlets: int = Field(3, ge=2, description="distinct outlets verifying one document within the window")
    many_outlets_minutes: float = Field(60, gt=0)
    fail_then_pass_failures: int = Field(3, ge=1, description="failed verifications of a document before a pass")
    fail_then_pass_minutes: float = Field(60, gt=0)
    agent_min_registrations: int = Field(20, ge=1, description="an agent is compared once past this volume")
    agent_volume_ratio: float = Field(2.5, gt=1, description="volume over the outlet's other agents' median")
    agent_night_share: float = Field(0.2, gt=0, le=1, description="share of registrations at night")
    night_from_hour: int = Field(22, ge=0, le=23)
    night_to_hour: int = Field(6, ge=0, le=23)
    agent_review_rate: float = Field(0.1, gt=0, le=1, description="share of verifications decided 'review'")
    agent_min_events: int = Field(10, ge=1, description="night registrations or reviews needed before judging")
    quick_cancel_hours: float = Field(24, gt=0, description="registered then cancelled within this many hours")
    kiosk_failure_rate: float = Field(0.3, gt=0, le=1, description="share of a kiosk's verifications that failed "
                                      "(a kiosk fed prepared videos or other people's cards fails more)")
    duplicate_face_cosine: float = Field(0.7, gt=0, le=1, description="SFace cosine between two documents' "
                                         "templates; far stricter than the 1:1 threshold because 1:N over many "
                                         "templates multiplies chance matches")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REALNAME_", env_file=".env", extra="ignore",
                                      env_nested_delimiter="__")

    engine: EngineName = Field("cascade", description="face engine used for matching")
    thresholds_file: Path | None = Field(
        None, description="thresholds JSON; default: the calibrated file shipped in the package"
    )
    # Limits per use, checked before any pixel is decoded (a few KB of PNG can declare 36 megapixels).
    max_upload_bytes: int = Field(10 * 1024 * 1024, gt=0, description="largest accepted image upload")
    max_image_pixels: int = Field(4_000_000, gt=0, description="largest camera frame or compare image, in pixels")
    max_portrait_bytes: int = Field(1024 * 1024, gt=0, description="largest document portrait")
    max_portrait_pixels: int = Field(1_000_000, gt=0, description="largest document portrait, in pixels (the "
                                     "chip's is 102x126)")
    max_json_bytes: int = Field(1024 * 1024, gt=0, description="largest JSON request body (the verification "
                                "request may add its base64 portrait)")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    # Operations
    metrics_token: SecretStr | None = Field(None, description="bearer token that /metrics requires; unset: no "
                                            "/metrics route (404)")
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="level of the JSON log "
                                                                    "lines `realname serve` writes to stderr")

    # Registry
    database_url: str = Field("sqlite:///var/realname.db", description="SQLAlchemy URL; PostgreSQL in production")
    keyring_file: Path = Field(Path("var/realname-keys.json"),
                               description="field-encryption keys (or REALNAME_KEYRING)")
    country: str = Field("CN", min_length=2, max_length=2, description="region for phone numbers")
    cap_total: int | None = Field(None, ge=1, description="optional cap on numbers per person across operators")
    challenge_actions: int = Field(3, ge=2, le=4)
    light_check: bool = Field(True, description="screen-light challenge for every operator that does not set it "
                              "(operator setting light_check)")
    challenge_seconds: float = Field(20.0, gt=0, description="time to start the live check once challenged")
    capture_seconds: float = Field(30.0, gt=0, description="longest accepted capture after the challenge")
    max_frames: int = Field(900, gt=0)
    max_capture_bytes: int = Field(64 * 1024 * 1024, gt=0, description="largest accepted live-check upload")
    max_capture_pixels: int = Field(300_000_000, gt=0, description="all of one capture's frames together, in "
                                    "pixels (900 frames of 640x480 are 276 million)")
    verification_valid_minutes: float = Field(5.0, gt=0, description="a pass is good for one registration this long")
    max_failures: int = Field(5, ge=1, description="failed verifications per document per window before locking")
    failure_window_minutes: float = Field(10.0, gt=0)
    reverify_hours: float = Field(24.0, gt=0, description="deadline of a re-verification order")
    token_minutes: float = Field(30.0, gt=0, description="lifetime of a login token")
    login_max_failures: int = Field(5, ge=1, description="failed logins for one username before it is locked")
    login_client_max_failures: int = Field(20, ge=1, description="failed logins from one client address before it "
                                           "is locked (higher: an outlet's kiosks may share one address)")
    login_lock_minutes: float = Field(1.0, gt=0, description="first login lock; each further lock doubles it")
    login_lock_max_minutes: float = Field(60.0, gt=0, description="longest login lock")
    login_forget_hours: float = Field(24.0, gt=0, description="failed logins are forgotten after this long without "
                                      "another one")
    retention_years_after_service: int = Field(2, ge=0)
    session_retention_days: int = Field(90, ge=1)
    retain_templates: bool = Field(False, description="operator keeps face templates for fraud checks (needs its "
                                   "own consent per person)")
    template_retention_days: int = Field(365, ge=1)
    face_data_warning: int = Field(100_000, ge=1, description="people with stored face data before filing")
    consent_text_version: str = "2026-11"
    timezone: str = Field("Asia/Shanghai", description="the operator's local time, for hours and days in reports")
    signals: SignalRules = Field(default_factory=SignalRules)
    # The trusted capture chain: enrolled kiosks (WebAuthn), signing card readers, passport chips.
    webauthn_rp_id: str = Field("localhost", min_length=1, description="the host name kiosks' WebAuthn credentials "
                                "are bound to: the name the kiosks reach the service by (not an IP address)")
    webauthn_origins: list[str] = Field(default_factory=list, description="origins the kiosk page is served from "
                                        "(e.g. https://realname.example.com); empty: any origin on webauthn_rp_id")
    kiosk_nonce_seconds: float = Field(120.0, gt=0, description="how long a kiosk's request nonce is good for")
    reader_statement_minutes: float = Field(10.0, gt=0, description="oldest card reader statement accepted")
    csca_trust_list: Path | None = Field(None, description="PEM file of the country signing CA certificates trusted "
                                         "for passport chips; none: chip reads are refused as untrusted")
    log_head_seconds: float = Field(60.0, ge=0, description="how often `realname serve` signs a tree head of the audit "
                                    "log (the regulator's maximum merge delay); 0: only on demand")
    test_mode: bool = Field(False, description="tests only: allows fixed_challenge")
    fixed_challenge: str | None = Field(None, description="tests only: actions every challenge asks for")
    fixed_live_check: Literal["pass", "fail", "review"] | None = Field(
        None, description="tests only: every live check decides this, without looking at the frames")

    @model_validator(mode="after")
    def _dlib_alone_only_when_calibrated_here(self) -> Settings:
        # dlib alone at thresholds calibrated on LFW is unsafe on East-Asian faces (EER 6.3-9.5% on the subgroup
        # against 1.3% on LFW): as a decision engine it needs the operator's own calibration. The cascade and the
        # fusion keep it as one of their components.
        if self.engine == "dlib" and self.thresholds_file is None:
            raise ValueError("REALNAME_ENGINE=dlib decides with dlib alone, which is unsafe on East-Asian faces at the "
                             "packaged (LFW) thresholds: calibrate on your own customers' pairs (realname calibrate "
                             "PAIRS --out thresholds.json) and set REALNAME_THRESHOLDS_FILE, or use cascade")
        return self

    @model_validator(mode="after")
    def _fixed_challenge_only_in_tests(self) -> Settings:
        for name in ("fixed_challenge", "fixed_live_check"):
            if getattr(self, name) and not self.test_mode:
                raise ValueError(f"REALNAME_{name.upper()} is for tests only: it needs REALNAME_TEST_MODE=1 and must "
                                 "never be set on a real service")
        return self
