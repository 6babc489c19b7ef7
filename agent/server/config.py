"""Server settings: environment variables with the prefix ``SATYA_SERVER_``.

Example::

    ServerSettings(rate_per_minute=600, files_root=Path("/srv/models"), upload_ttl_h=48)
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024
NEVER = ("never", "off", "none", "no")


class ServerSettings(BaseSettings):
    """Limits and file access of the HTTP API."""

    model_config = SettingsConfigDict(
        env_prefix="SATYA_SERVER_", env_file=".env", extra="ignore", populate_by_name=True
    )

    max_body_bytes: int = Field(
        default=1 * MIB, ge=1024, description="Largest JSON request body (413 above)."
    )
    max_upload_bytes: int = Field(
        default=4096 * MIB, ge=1, description="Largest model file upload (413 above)."
    )
    rate_per_minute: float = Field(
        default=600.0, gt=0, description="Requests per user per minute, per worker (429 above)."
    )
    rate_burst: int = Field(default=120, ge=1, description="Requests a user may make at once.")
    files_root: Path | None = Field(
        default=None,
        description="When set, run messages may name model files by path under this directory.",
    )
    upload_ttl_h: float = Field(
        default=24.0,
        ge=0,
        description="Hours an upload is kept after its last use (a run naming it, or a run "
        "on a thread that refers to it); 0 or 'never': uploads are kept for ever.",
    )
    upload_sweep_s: float | None = Field(
        default=None,
        gt=0,
        description="Seconds between sweeps for expired uploads; "
        "default a quarter of the lifetime, at most an hour.",
    )
    keepalive_s: float = Field(default=15.0, gt=0, description="SSE comment interval.")
    run_poll_s: float = Field(
        default=0.2, gt=0, description="How often a worker polls the shared log of another's run."
    )
    notice_poll_s: float = Field(
        default=1.0,
        gt=0,
        description="How often an open notification stream looks for notices another worker "
        "left for its user.",
    )

    @field_validator("upload_ttl_h", mode="before")
    @classmethod
    def _never(cls, v: object) -> object:
        if isinstance(v, str) and v.strip().lower() in NEVER:
            return 0.0
        return v

    @property
    def upload_ttl_s(self) -> float | None:
        """The upload lifetime in seconds; None when uploads never expire."""
        return self.upload_ttl_h * 3600 if self.upload_ttl_h > 0 else None

    @field_validator("files_root")
    @classmethod
    def _resolve(cls, v: Path | None) -> Path | None:
        return v.expanduser().resolve() if v is not None else None
