"""Hashing and checking verification secrets (ZIP code, last four card digits).

These secrets are short, so the hash is salted per secret and deliberately slow
(PBKDF2-SHA256) and the comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class HashedSecret:
    salt: str
    digest: str
    iterations: int


def normalize_secret(kind: str, raw: str) -> str:
    """Reduces what a customer typed to the canonical secret (digits only)."""
    digits = re.sub(r"\D", "", raw or "")
    if kind == "zip_code":
        return digits[:5]
    if kind == "last_four":
        return digits[-4:]
    raise ValueError(f"unknown secret kind {kind!r}")


def _digest(value: str, salt: str, iterations: int) -> str:
    return hashlib.pbkdf2_hmac("sha256", value.encode(), bytes.fromhex(salt), iterations).hex()


def hash_secret(value: str, iterations: int) -> HashedSecret:
    salt = secrets.token_hex(16)
    return HashedSecret(salt=salt, digest=_digest(value, salt, iterations), iterations=iterations)


def check_secret(value: str, stored: HashedSecret) -> bool:
    candidate = _digest(value, stored.salt, stored.iterations)
    return hmac.compare_digest(candidate, stored.digest)
