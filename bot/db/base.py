"""What every domain's tables share: one metadata (one set of migrations) and exact money."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import MetaData
from sqlalchemy.orm import declarative_base
from sqlalchemy.types import BigInteger, TypeDecorator

# Named constraints so migrations can address them on every database.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
Base = declarative_base(metadata=metadata)


class Money(TypeDecorator):
    """Exact money: stored as integer cents, read back as a two-place Decimal.

    SQLite has no exact decimal type, so storing cents keeps both databases exact.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return int((Decimal(value) * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return (Decimal(int(value)) / 100).quantize(Decimal("0.01"))


MONEY = Money()
