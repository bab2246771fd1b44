"""The one settings object: every configurable value comes from here."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[3]


class Settings(BaseSettings):
    """Settings read from ``XINYONG_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="XINYONG_", extra="ignore")

    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'xinyong.db'}"
    # Directory of the YAML policy packs; the repository's ``policies/`` by default.
    policy_dir: Path = PROJECT_ROOT / "policies"
    # Jurisdiction of this platform (GB/T 2260 area code, or "CN" for national rules only).
    jurisdiction: str = "CN"
    # Key material for encrypting personal identifiers at rest (base64, 32 bytes). When unset,
    # a key is created once under ``var/secret.key`` so that a demo runs with no set-up.
    secret_key: str | None = None
    var_dir: Path = PROJECT_ROOT / "var"
    # Fixed "today" (YYYY-MM-DD) for demos and reproducible runs; unset means the real date.
    today: str | None = None
    # Web: mark cookies Secure (set to false only for plain-http development on localhost).
    cookie_secure: bool = True
    # Web: take the client address from X-Forwarded-For (only behind a trusted reverse proxy).
    trust_proxy: bool = False
    # Web: public pages and API answers allowed per client per minute (0 disables the limit).
    rate_limit_per_minute: int = 120
    # Web: largest file a department may upload, in megabytes.
    upload_max_mb: int = 50


@lru_cache
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget cached settings (tests change the environment)."""
    get_settings.cache_clear()
