"""How an internal service checks its caller: a shared token, sent as
``Authorization: Bearer <token>`` (or Rasa's ``?token=`` query parameter),
compared in constant time."""

from __future__ import annotations

import hmac
from typing import Mapping, Optional


def bearer(token: str) -> str:
    return f"Bearer {token}"


def presented_token(headers: Mapping[str, str], query: Mapping[str, str]) -> Optional[str]:
    """The token a request carries, from its Authorization header or its ``token`` parameter."""
    header = headers.get("Authorization") or headers.get("authorization") or ""
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return query.get("token") or None


def token_ok(presented: Optional[str], expected: str) -> bool:
    """True only for the expected, non-empty token."""
    if not expected or not presented:
        return False
    return hmac.compare_digest(presented.encode(), expected.encode())
