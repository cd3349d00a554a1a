"""Typed settings, read once per container from the environment variables template.yaml declares."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

# Documented limits of the widget API (README "Limits"): bigger input gets 413.
MAX_MESSAGE_CHARS = 4000
MAX_CONTEXT_BYTES = 4096
MAX_BODY_BYTES = 32 * 1024


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    return int(raw) if raw.strip() else default


@dataclass(frozen=True)
class Settings:
    stage: str
    agents_table: str
    users_table: str
    deployments_table: str
    allowed_origins_table: str
    sessions_table: str
    messages_table: str
    usage_table: str
    event_bus_name: str
    limits_cache_seconds: int
    user_editor_links_table: str
    uniqueness_table: str
    share_links_table: str
    link_codes_table: str
    share_base_url: str
    message_queue_url: str
    message_max_receive_count: int
    retry_backoff_seconds: int
    ollama_host: str
    ollama_timeout_seconds: int
    qdrant_url: str
    qdrant_path: str
    embed_model: str
    authorizer_cache_seconds: int
    uploads_bucket: str
    session_files_table: str

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ.get
        return cls(
            stage=env("STAGE", "prod"),
            agents_table=env("AGENTS_TABLE", ""),
            users_table=env("USERS_TABLE", ""),
            deployments_table=env("DEPLOYMENTS_TABLE", ""),
            allowed_origins_table=env("ALLOWED_ORIGINS_TABLE", ""),
            sessions_table=env("SESSIONS_TABLE", ""),
            messages_table=env("MESSAGES_TABLE", ""),
            usage_table=env("USAGE_TABLE", ""),
            event_bus_name=env("EVENT_BUS_NAME", ""),
            limits_cache_seconds=_int("LIMITS_CACHE_SECONDS", 0),
            user_editor_links_table=env("USER_EDITOR_LINKS_TABLE", ""),
            uniqueness_table=env("UNIQUENESS_TABLE", ""),
            share_links_table=env("SHARE_LINKS_TABLE", ""),
            link_codes_table=env("LINK_CODES_TABLE", ""),
            share_base_url=env("SHARE_BASE_URL", ""),
            message_queue_url=env("MESSAGE_QUEUE_URL", ""),
            message_max_receive_count=_int("MESSAGE_MAX_RECEIVE_COUNT", 3),
            retry_backoff_seconds=_int("RETRY_BACKOFF_SECONDS", 2),
            ollama_host=env("OLLAMA_HOST", "http://127.0.0.1:11434"),
            ollama_timeout_seconds=_int("OLLAMA_TIMEOUT_SECONDS", 45),
            qdrant_url=env("QDRANT_URL", ""),
            qdrant_path=env("QDRANT_PATH", ""),
            embed_model=env("OLLAMA_EMBED_MODEL", "nomic-embed-text"),
            authorizer_cache_seconds=_int("AUTHORIZER_CACHE_SECONDS", 0),
            uploads_bucket=env("UPLOADS_BUCKET", ""),
            session_files_table=env("SESSION_FILES_TABLE", ""),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The container's settings; tests that change the environment call get_settings.cache_clear()."""
    return Settings.from_env()
