"""Checking what a customer typed against the secrets their account holds."""

from __future__ import annotations

import asyncio
import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.accounts.models import VerificationSecret
from bot.security import HashedSecret, check_secret, normalize_secret


async def check_verification_secret(session: AsyncSession, customer_id: int, raw_secret: str) -> bool:
    """True when what the customer typed matches any secret the account holds.

    The slow hash runs in a worker thread so the event loop keeps serving.
    """
    rows = (
        (await session.execute(select(VerificationSecret).where(VerificationSecret.customer_id == customer_id)))
        .scalars()
        .all()
    )
    typed_digits = re.sub(r"\D", "", raw_secret or "")
    for secret in rows:
        # Only a reply of exactly the right length is compared: a 5-digit ZIP guess
        # must not also count as a guess of the card's last four digits.
        expected_length = 5 if secret.kind == "zip_code" else 4
        if len(typed_digits) != expected_length:
            continue
        candidate = normalize_secret(secret.kind, typed_digits)
        stored = HashedSecret(secret.salt, secret.digest, secret.iterations)
        if await asyncio.to_thread(check_secret, candidate, stored):
            return True
    return False
