"""Encryption of personal identifiers at rest, blind indexes for lookup, keyed content hashes, the
audit chain's keyed digest."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from xinyong.core.config import get_settings


def _master_key() -> bytes:
    settings = get_settings()
    if settings.secret_key:
        key = base64.b64decode(settings.secret_key)
        if len(key) < 32:
            raise ValueError("XINYONG_SECRET_KEY must decode to at least 32 bytes")
        return key
    # No key configured: keep one under var/ so a demo runs without set-up. Production sets
    # XINYONG_SECRET_KEY (docs/ingest.md and README say so).
    path = settings.var_dir / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(base64.b64encode(secrets.token_bytes(32)).decode())
    return base64.b64decode(path.read_text().strip())


def derive_key(purpose: bytes) -> bytes:
    """The key of one purpose, derived from the master key. Migrations that must give the same
    result whatever the code becomes later derive their purpose's key with it."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(_master_key())


class Keyring:
    """Keys derived from the master key, one per purpose."""

    def __init__(self) -> None:
        self._aead = AESGCM(derive_key(b"xinyong personal id encryption v1"))
        self._index_key = derive_key(b"xinyong blind index v1")
        self._hash_key = derive_key(b"xinyong content hash v1")
        self._audit_key = derive_key(b"xinyong audit chain v1")

    def encrypt(self, plaintext: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), b"xinyong")
        return "v1:" + base64.b64encode(nonce + sealed).decode()

    def decrypt(self, token: str) -> str:
        version, _, payload = token.partition(":")
        if version != "v1":
            raise ValueError("unknown ciphertext version")
        raw = base64.b64decode(payload)
        return self._aead.decrypt(raw[:12], raw[12:], b"xinyong").decode()

    def blind_index(self, value: str) -> str:
        """A keyed, deterministic digest: equal identifiers match without being readable."""
        return hmac.new(self._index_key, value.encode(), hashlib.sha256).hexdigest()

    def content_hash(self, payload: bytes) -> str:
        """Keyed digest of a record's content, so the hash cannot be used to guess a masked id."""
        return hmac.new(self._hash_key, payload, hashlib.sha256).hexdigest()

    def audit_chain_hash(self, payload: bytes) -> str:
        """Keyed digest of an audit entry and the previous entry's hash: whoever can write the
        database but does not hold the key cannot recompute the chain after altering an entry."""
        return hmac.new(self._audit_key, payload, hashlib.sha256).hexdigest()


@lru_cache
def get_keyring() -> Keyring:
    return Keyring()


def reset_keyring() -> None:
    get_keyring.cache_clear()
