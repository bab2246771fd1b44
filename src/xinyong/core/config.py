"""The one settings object: every configurable value comes from here."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parents[1]
# What the platform ships inside its package, so that an installed package runs as a checkout does.
MIGRATIONS_DIR = PACKAGE_DIR / "migrations"
POLICY_PACKS_DIR = PACKAGE_DIR / "policy" / "packs"


def checkout_root() -> Path | None:
    """The source checkout the package runs from (``<checkout>/src/xinyong``, also when installed
    with ``pip install -e``), or None for an installed package."""
    root = PACKAGE_DIR.parents[1]
    return root if PACKAGE_DIR.parent.name == "src" and (root / "pyproject.toml").is_file() else None


def default_var_dir() -> Path:
    """``var/`` of the checkout, or of the current directory for an installed package."""
    return (checkout_root() or Path.cwd()) / "var"


class Settings(BaseSettings):
    """Settings read from ``XINYONG_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="XINYONG_", extra="ignore")

    # SQLAlchemy URL; unset: the SQLite file ``xinyong.db`` in ``var_dir``.
    database_url: str = ""
    # Directory of the YAML policy packs; the packs shipped in the package by default.
    policy_dir: Path = POLICY_PACKS_DIR
    # Jurisdiction of this platform (GB/T 2260 area code, or "CN"): the rules `policy show` and the
    # rules pages list, and the 重错码 target. A record is decided by the rules of its deciding
    # authority's area (the code inside its USCC), whatever this says.
    jurisdiction: str = "CN"
    # Key material for encrypting personal identifiers at rest (base64, 32 bytes). When unset,
    # a key is created once under ``var/secret.key`` so that a demo runs with no set-up.
    secret_key: str | None = None
    # The platform's own files: the default SQLite database and a generated secret key.
    var_dir: Path = Field(default_factory=default_var_dir)
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

    @model_validator(mode="after")
    def _database_in_var_dir(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'xinyong.db'}"
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget cached settings (tests change the environment)."""
    get_settings.cache_clear()
