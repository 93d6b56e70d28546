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


# Agent passwords: scrypt, a memory-hard password hash, with its parameters kept
# beside the digest so they can be raised later without breaking old hashes.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        candidate = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=len(digest) // 2
        )
    except ValueError:
        return False
    return hmac.compare_digest(candidate.hex(), digest)


def session_token() -> str:
    """A new console session token (sent to the browser; only its hash is stored)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
