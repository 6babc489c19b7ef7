"""Settings: environment variables (prefix ``SATYA_``) and a ``.env`` file.

Every backend is chosen here, never by editing code. With nothing set, every
backend is the embedded one and the product runs offline. One object holds all of
it, the database (``DATABASE_URL``) and the HTTP API (``settings.server``, variables
``SATYA_SERVER_*``) included; it is read once and handed on, to ``satya serve``'s
worker processes too.

Example::

    settings = Settings(home=tmp_path, storage_backend="local")
    settings.home / "checkpoints.sqlite"
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from agent.server.config import ServerSettings
from flows.users import RULE as USER_RULE
from flows.users import valid_user_id

MIB = 1024 * 1024


class Settings(BaseSettings):
    """All configuration of Satya Agent."""

    model_config = SettingsConfigDict(
        env_prefix="SATYA_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    home: Path = Field(default=Path("~/.satya"), description="Checkpoints, ledger, blobs, keys.")
    user: str = Field(default="local", description="The user id the chat speaks for.")
    mode: Literal["supervised", "auto", "debug"] = "supervised"
    database_url: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SATYA_DATABASE_URL", "DATABASE_URL", "database_url"),
        description="PostgreSQL (postgresql://…) for threads shared by several workers or "
        "hosts; unset: SQLite under home.",
    )
    server: ServerSettings = Field(
        default_factory=ServerSettings, description="The HTTP API (SATYA_SERVER_*)."
    )

    storage_backend: Literal["local", "walrus"] = "local"
    walrus_publisher_url: str = "https://publisher.walrus-testnet.walrus.space"
    walrus_aggregator_url: str = "https://aggregator.walrus-testnet.walrus.space"
    walrus_permanent: bool = False
    walrus_send_object_to: str | None = None
    epochs: int = Field(default=1, ge=1, le=53)
    price_frost_per_mib_epoch: int = Field(default=2100, ge=0)
    local_storage_quota_mb: int | None = Field(default=None, ge=0)

    chain_backend: Literal["local", "sui"] = "local"
    sui_network: str = "testnet"
    sui_rpc_url: str = "fullnode.testnet.sui.io:443"
    sui_package_id: str | None = None
    sui_registry_id: str | None = None
    sui_private_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SATYA_SUI_PRIVATE_KEY", "SUI_PRIVATE_KEY")
    )
    sui_keystore: Path | None = None

    verifier_backend: Literal["local", "nautilus"] = "local"
    nautilus_url: str = "http://127.0.0.1:3000"
    result_max_age_s: float = Field(default=600.0, gt=0)
    verify_foreground_s: float = Field(
        default=10.0,
        ge=0,
        description="How long a turn waits for verification before it goes on in the background.",
    )
    monitor_poll_s: float = Field(
        default=0.5, gt=0, description="How often background verification jobs are polled."
    )

    size_threshold_mb: float = Field(
        default=100.0, gt=0, description="Above this, the compression branch."
    )
    chunk_size_mib: float = Field(default=8.0, gt=0, le=10.0)
    upload_concurrency: int = Field(default=4, ge=1, le=64)
    bulk_concurrency: int = Field(
        default=2, ge=1, le=16, description="Bulk upload: files uploaded at the same time."
    )
    upload_retries: int = Field(default=3, ge=0, le=20)
    max_auto_retries: int = Field(
        default=1,
        ge=0,
        le=10,
        description="Automatic retries of a step that failed for a passing reason (a timeout, "
        "an outage), before the user is asked.",
    )
    retry_backoff_s: float = Field(
        default=2.0,
        ge=0,
        le=60,
        description="The wait before the first automatic retry of a step; it doubles after.",
    )
    deadline_factor: float = Field(
        default=3.0,
        ge=1,
        description="A long step (upload, verification) is 'taking longer than expected' past "
        "this many times its estimate.",
    )
    deadline_min_s: float = Field(
        default=30.0, gt=0, description="No long step is called late before this many seconds."
    )
    unsold_days: float = Field(
        default=14.0,
        ge=0,
        description="Advice names a listing with no sale this many days after it was listed.",
    )
    price_gap_percent: int = Field(
        default=30,
        ge=1,
        description="A listing priced this many percent away from what comparable listings "
        "suggest is named in advice, and its author is told.",
    )
    call_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="One call to the enclave, or a query to the chain, that does not answer in "
        "this time counts as the service being unavailable.",
    )
    tx_estimate_s: float = Field(
        default=5.0,
        gt=0,
        description="A ledger transaction's estimate until its durations are recorded (then the "
        "median of the last 20); its deadline is SATYA_DEADLINE_FACTOR times it, at least "
        "SATYA_DEADLINE_MIN_S.",
    )
    auto_cap_wal: float = Field(
        default=5.0, ge=0, description="auto mode: storage spend cap (WAL)."
    )
    auto_cap_sui: float = Field(default=5.0, ge=0, description="auto mode: SUI spend cap.")

    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "SATYA_OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "SATYA_OPENAI_BASE_URL")
    )
    openai_model: str = Field(
        default="gpt-4o-mini", validation_alias=AliasChoices("OPENAI_MODEL", "SATYA_OPENAI_MODEL")
    )
    llm_timeout_s: float = 8.0  # a total deadline per call to the language model

    step_events: bool = Field(
        default=True, description="Record each journey step and external call (insights)."
    )
    otel_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SATYA_OTEL_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"),
        description="Export OpenTelemetry spans over OTLP/HTTP to this endpoint (off when unset).",
    )

    node_cache: Path | None = Field(
        default=None,
        description="Where 'satya serve build-page' installs its npm packages, once "
        "(SATYA_NODE_CACHE); unset: satya/node under the user's cache folder.",
    )
    xdg_cache_home: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("XDG_CACHE_HOME", "xdg_cache_home"),
        description="The user's cache folder (XDG_CACHE_HOME); unset: ~/.cache.",
    )

    @field_validator("home")
    @classmethod
    def _expand(cls, v: Path) -> Path:
        return v.expanduser()

    @field_validator("node_cache", "xdg_cache_home")
    @classmethod
    def _expand_optional(cls, v: Path | None) -> Path | None:
        return v.expanduser() if v is not None else None

    @field_validator("user")
    @classmethod
    def _user_id(cls, v: str) -> str:
        if not valid_user_id(v):
            raise ValueError(f"{v!r} is not a valid user id: use {USER_RULE}")
        return v

    @property
    def llm_enabled(self) -> bool:
        """An OpenAI-compatible model is used when a key or a base URL is configured."""
        return self.openai_api_key is not None or self.openai_base_url is not None

    @property
    def chunk_size(self) -> int:
        return int(self.chunk_size_mib * MIB)

    @property
    def size_threshold_bytes(self) -> int:
        return int(self.size_threshold_mb * 1000 * 1000)


def settings_problem(error: ValidationError) -> str:
    """A setting's bad value as one paragraph: which variable, what is wrong, what to do."""
    prefix = "SATYA_SERVER_" if error.title == "ServerSettings" else "SATYA_"
    problems = "; ".join(
        f"{prefix}{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in error.errors()
    )
    return (
        f"A setting is not valid ({problems}).\n"
        "Fix the SATYA_ environment variable or the .env entry of that name, then start again."
    )
