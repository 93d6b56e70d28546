"""The aging report: buckets, per customer and per currency, as a table and as CSV."""

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest

from bot.db import session_scope
from bot.dunning import aging
from bot.dunning.rows import Account, OpenInvoice
from tests.conftest import TODAY


@pytest.mark.parametrize("days, bucket", [
    (-10, "current"), (0, "current"), (1, "1-30"), (30, "1-30"), (31, "31-60"), (60, "31-60"),
    (61, "61-90"), (90, "61-90"), (91, "91-120"), (120, "91-120"), (121, "over 120"), (900, "over 120"),
])
def test_buckets(days, bucket):
    assert aging.bucket_of(days) == bucket


def inv(account, days, amount, currency="USD", fee="0.00", paid="0.00"):
    due = TODAY - dt.timedelta(days=days)
    return OpenInvoice(1, "INV-1", "", Decimal(amount), Decimal(fee), Decimal(paid), currency, due, due, account)


def test_amounts_add_up_per_customer_and_per_currency_never_across():
    a = Account(1, "AC-1", "Ana", "a@x", "UTC", False, False)
    b = Account(2, "AC-2", "Ben", "b@x", "UTC", False, False)
    report = aging.build([inv(a, 5, "10.00"), inv(a, 45, "20.00", fee="25.00"), inv(a, 200, "5.00", paid="5.00"),
                          inv(b, -3, "7.50", "EUR"), inv(b, 95, "1.25")], TODAY)
    rows = {(r.account_number, r.currency): r.amounts for r in report.customers}
    z = Decimal("0.00")
    assert rows == {("AC-1", "USD"): (z, Decimal("10.00"), Decimal("45.00"), z, z, z),
                    ("AC-2", "EUR"): (Decimal("7.50"), z, z, z, z, z),
                    ("AC-2", "USD"): (z, z, z, z, Decimal("1.25"), z)}
    assert [(t.currency, t.total) for t in report.totals] == [("EUR", Decimal("7.50")), ("USD", Decimal("56.25"))]
    parsed = list(csv.reader(io.StringIO(aging.as_csv(report))))
    assert parsed[0] == ["account", "name", "currency", "current", "1-30", "31-60", "61-90", "91-120", "over 120", "total"]
    assert parsed[-1] == ["TOTAL", "", "USD", "0.00", "10.00", "45.00", "0.00", "1.25", "0.00", "56.25"]
    table = [re.split(r"\s{2,}", line) for line in aging.as_table(report).splitlines()]
    assert table[1] == parsed[0] and table[-1] == ["TOTAL", "USD", "0.00", "10.00", "45.00", "0.00", "1.25", "0.00",
                                                   "56.25"]


async def test_the_demo_data_in_every_bucket(sqlite_db):
    async with session_scope() as session:
        report = await aging.aging_report(session, TODAY)
    rows = {r.account_number: r for r in report.customers}
    assert "AC-100001" not in rows and "AC-100011" not in rows  # paid up; disputed is not dunned
    assert aging.BUCKETS[rows["AC-100002"].amounts.index(rows["AC-100002"].total)] == "current"
    assert aging.BUCKETS[rows["AC-100005"].amounts.index(rows["AC-100005"].total)] == "61-90"
    okafor = dict(zip(aging.BUCKETS, rows["AC-100007"].amounts))
    assert okafor["1-30"] > 0 and okafor["over 120"] > 0
    assert rows["AC-100013"].currency == "EUR"
    assert {t.currency for t in report.totals} == {"USD", "EUR"}
    usd = next(t for t in report.totals if t.currency == "USD")
    assert usd.total == sum((r.total for r in report.customers if r.currency == "USD"), Decimal("0.00"))
    assert all(amount > 0 for amount in usd.amounts)  # dozens of customers: every bucket is used
