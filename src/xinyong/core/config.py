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
    # Web: when `xinyong serve` is told to stop (SIGTERM, SIGINT), how many seconds a worker waits
    # for the requests in flight before it cancels them and exits (0: as long as they take).
    graceful_shutdown_seconds: int = 30
    # Web: largest file a department may upload, in megabytes.
    upload_max_mb: int = 50
    # Ingest: an .xlsx is a zip, and its parts may inflate far beyond the file's size (a 1 MB file can
    # hold 1 GB of text). A workbook is refused, before anything is inflated, when a part larger than
    # 4 MB (or all its parts together) would inflate to more than this many times its compressed
    # size: real workbooks measure 6–28 (docs/ingest.md), a zip bomb up to 1,032.
    xlsx_max_inflate_ratio: int = 100
    # Ingest: the largest a worksheet of an .xlsx may be uncompressed, in megabytes (read as a stream:
    # 1,000,000 rows written by openpyxl measure about 1,840 MB).
    xlsx_max_sheet_mb: int = 4096
    # Ingest: the largest any other part of an .xlsx may be uncompressed, in megabytes: these are read
    # whole into memory (the shared strings of 1,000,000 rows measure about 230 MB; styles and the
    # workbook's other parts a few MB at most).
    xlsx_max_part_mb: int = 1024


@lru_cache
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget cached settings (tests change the environment)."""
    get_settings.cache_clear()
