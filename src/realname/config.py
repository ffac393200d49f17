"""Settings from environment variables (prefix ``REALNAME_``) or an env file; built on demand, never at import."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

EngineName = Literal["cascade", "fusion", "sface", "dlib", "fake"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REALNAME_", env_file=".env", extra="ignore")

    engine: EngineName = Field("cascade", description="face engine used for matching")
    thresholds_file: Path | None = Field(
        None, description="thresholds JSON; default: the calibrated file shipped in the package"
    )
    max_upload_bytes: int = Field(10 * 1024 * 1024, gt=0, description="largest accepted image upload")
    max_image_pixels: int = Field(40_000_000, gt=0, description="largest accepted image, in pixels")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
