"""One settings object for every mayday process, read from ``MAYDAY_*`` environment variables."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mayday.hooks.payload import MAX_BODY_BYTES

RATE = r"^\d+/\d+[smh]$"
"""A rate like `5/15m`: at most 5 sends in any 15 minutes."""


def parse_rate(rate: str) -> tuple[int, timedelta]:
    """`5/15m` → (5, 15 minutes)."""
    count, window = rate.split("/")
    unit = {"s": "seconds", "m": "minutes", "h": "hours"}[window[-1]]
    return int(count), timedelta(**{unit: int(window[:-1])})


class Settings(BaseSettings):
    """Where Temporal is, where data lives, which ports and providers to use."""

    # An empty variable (compose's `${X:-}`, a blank .env line) means unset: the default holds.
    model_config = SettingsConfigDict(
        env_prefix="MAYDAY_", extra="ignore", populate_by_name=True, env_ignore_empty=True
    )

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_tls_ca: Path | None = None
    temporal_api_key: SecretStr | None = None
    temporal_connect_timeout: float = Field(
        default=3.0, gt=0, description="Seconds to connect to Temporal before answering 503."
    )
    task_queue: str = "mayday"
    page_task_queue: str = "mayday-pages"
    contact_task_queue: str = "mayday-contacts"

    data_dir: Path = Path(".mayday")
    playbook: Path | None = Field(
        default=None, description="Playbook folder or file; the bundled Acme playbook when unset."
    )

    http_host: str = "127.0.0.1"
    http_port: int = 8000
    temporal_port: int = 7233
    ui_port: int = 8233
    metrics_port: int = Field(default=0, description="SDK Prometheus metrics port; 0 is off.")
    metrics_host: str = "127.0.0.1"
    public_url: str | None = Field(
        default=None, description="Base URL providers call back (Twilio hooks); behind TLS."
    )
    carrier_throttle: bool = Field(
        default=True, description="Per-destination SMS/voice limits when a carrier sends."
    )
    sms_per_destination: str = Field(
        default="5/15m", pattern=RATE, description="SMS to one number: COUNT/WINDOW."
    )
    voice_per_destination: str = Field(
        default="3/15m", pattern=RATE, description="Calls to one number: COUNT/WINDOW."
    )

    hook_secret: SecretStr | None = Field(
        default=None, description="Shared secret of the alert hooks; empty counts as unset."
    )
    hook_signature_window: float = Field(
        default=300.0,
        gt=0,
        le=3600,
        description="Seconds a signed hook's timestamp may be from now before it is refused.",
    )
    hook_max_body_bytes: int = Field(
        default=MAX_BODY_BYTES,
        gt=0,
        le=MAX_BODY_BYTES,
        description="Refuse larger hook bodies (413); the parsers never take more than 1 MiB.",
    )
    hook_handoff_concurrency: int = Field(
        default=32, gt=0, description="Incidents one delivery signals at the same time."
    )
    hook_batch_linger_seconds: float = Field(
        default=0.003,
        ge=0,
        le=0.5,
        description="How long alerts for one incident wait to share a signal (group commit).",
    )
    decision_timeout: float = Field(
        default=12.0,
        gt=0,
        le=300,
        description="Seconds a CLI decision waits for a worker to answer before giving up.",
    )
    user: str | None = None

    provider_timeout: float = Field(
        default=10.0,
        gt=0,
        allow_inf_nan=False,
        description="Seconds one HTTP call to SendGrid, Twilio or PagerDuty may take.",
    )
    email_provider: Literal["outbox", "sendgrid"] = "outbox"
    sms_provider: Literal["outbox", "twilio"] = "outbox"
    voice_provider: Literal["outbox", "twilio"] = "outbox"
    pagerduty_provider: Literal["outbox", "pagerduty"] = "outbox"
    sendgrid_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("MAYDAY_SENDGRID_API_KEY", "SENDGRID_API_KEY"),
    )
    sendgrid_base_url: str | None = None
    sendgrid_from: str = "status@acme.example"
    sendgrid_from_name: str = "Acme Status"
    twilio_account_sid: str | None = Field(
        default=None,
        validation_alias=AliasChoices("MAYDAY_TWILIO_ACCOUNT_SID", "TWILIO_ACCOUNT_SID"),
    )
    twilio_auth_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("MAYDAY_TWILIO_AUTH_TOKEN", "TWILIO_AUTH_TOKEN"),
    )
    twilio_base_url: str | None = None
    twilio_from: str | None = None
    pagerduty_routing_key: SecretStr | None = None
    pagerduty_base_url: str = "https://events.pagerduty.com"

    @field_validator("hook_secret")
    @classmethod
    def _no_empty_secret(cls, secret: SecretStr | None) -> SecretStr | None:
        # An empty MAYDAY_HOOK_SECRET= (a blank .env line) is no secret, not a secret "".
        return secret if secret is not None and secret.get_secret_value().strip() else None

    @property
    def uses_twilio(self) -> bool:
        """Whether Twilio is configured: it sends SMS or voice, or its auth token signs hooks."""
        token = self.twilio_auth_token.get_secret_value() if self.twilio_auth_token else ""
        return "twilio" in (self.sms_provider, self.voice_provider) or bool(token.strip())

    @property
    def outbox_path(self) -> Path:
        """The JSON-lines file the outbox provider appends to."""
        return self.data_dir / "outbox.jsonl"

    @property
    def hooks_base_url(self) -> str:
        """Where providers reach the HTTP app: the public URL, else the local listener."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.http_host}:{self.http_port}"

    @property
    def uses_tls(self) -> bool:
        """Whether the Temporal connection needs TLS (mTLS files or an API key)."""
        return self.temporal_tls_cert is not None or self.temporal_api_key is not None
