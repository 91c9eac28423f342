"""All configuration, read once from `KONVERSATION_*` environment variables."""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./data/konversation.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KONVERSATION_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    # Secret under which API key digests are computed. When unset it is generated once and kept
    # in `secret_file`, so that restarts keep every issued key valid.
    secret_key: str | None = None
    secret_file: Path = Path("./data/secret.key")
    public_url: str | None = None
    log_level: str = "info"
    # `text` for a terminal, `json` for a log collector: one object a line, with request ids.
    log_format: Literal["text", "json"] = "text"
    # The port a worker or scheduler serves its Prometheus metrics on (the API server serves
    # them at /metrics); unset serves none.
    metrics_port: int | None = None
    # Email to subscribers (`/subscriber/send-email`): off until a host and a sender are set.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_from: str | None = None
    # SMS to subscribers (`/subscriber/send-sms`): off until a gateway URL is set.
    sms_gateway_url: str | None = None
    sms_gateway_token: SecretStr | None = None
    sms_sender: str | None = None
    # The Telegram Bot API; another base URL serves a local Bot API server (or a test double).
    telegram_api_base: str = "https://api.telegram.org"
    # Meta's Graph API: the WhatsApp Cloud API, its message templates and the Conversions API.
    graph_api_base: str = "https://graph.facebook.com/v21.0"
    # The OpenAI-compatible API the knowledge base uses when an integration names no base URL.
    openai_api_base: str = "https://api.openai.com/v1"
    # The models the knowledge base asks for: its embeddings, and the answers of flows.
    openai_embedding_model: str = "text-embedding-3-small"
    openai_chat_model: str = "gpt-4o-mini"
    # Background jobs: in this process by default; set a Redis URL to share them with
    # `konversation worker` processes.
    redis_url: str | None = None
    # The Redis stream the jobs go through: deployments sharing one Redis need their own.
    redis_queue: str = "konversation"
    # How long a worker holds the work it claimed (messages to send, a broadcast's next
    # recipients) before another worker takes it over, should the first have died.
    lease_seconds: int = 60
    # Calls a second allowed per API key, by class of operation (0: no limit): reads (GET),
    # sends (send-* and broadcast*) and other writes. Counted in Redis when it is configured.
    rate_limit_reads: int = 100
    rate_limit_sends: int = 25
    rate_limit_writes: int = 10
    # The largest request body accepted, in bytes; larger ones are refused with 413.
    max_body_bytes: int = 1_048_576
    # Networks that event webhooks may reach although they are not public (CIDRs, separated by
    # commas), such as "10.0.0.0/8" for receivers inside the owner's own network. None by
    # default: loopback, private and link-local addresses are refused.
    webhook_allowed_networks: Annotated[list[str], NoDecode] = []

    @field_validator("webhook_allowed_networks", mode="before")
    @classmethod
    def _split_networks(cls, value: Any) -> Any:
        networks = (
            [n.strip() for n in value.split(",") if n.strip()] if isinstance(value, str) else value
        )
        for network in networks:
            ipaddress.ip_network(network, strict=False)  # a typo fails at start, not per event
        return networks

    # The groups of operations (the API's tags, such as "Subscriber,Sending") that the MCP
    # server offers as tools, separated by commas; all of them when empty.
    mcp_groups: Annotated[list[str], NoDecode] = []

    @field_validator("mcp_groups", mode="before")
    @classmethod
    def _split_groups(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [group.strip() for group in value.split(",") if group.strip()]
        return value

    def server_secret(self) -> bytes:
        if self.secret_key:
            return self.secret_key.encode()
        return _read_or_create_secret(self.secret_file)

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"


def _read_or_create_secret(path: Path) -> bytes:
    if path.exists():
        return path.read_text().strip().encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(value + "\n")
    return value.encode()
