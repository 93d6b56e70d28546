"""The aging report: what open invoices still owe, by how late they are, per customer
and in total, in each currency (amounts in different currencies are never added)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Dict, List, Sequence, Tuple

from bot.dunning.data import open_invoices
from bot.dunning.rows import OpenInvoice

BUCKETS = ("current", "1-30", "31-60", "61-90", "91-120", "over 120")
HEADER = ("account", "name", "currency") + BUCKETS + ("total",)


def bucket_of(days_overdue: int) -> str:
    """'current' until the due date has passed, then the bucket of days past it."""
    if days_overdue <= 0:
        return "current"
    for limit, name in ((30, "1-30"), (60, "31-60"), (90, "61-90"), (120, "91-120")):
        if days_overdue <= limit:
            return name
    return "over 120"


@dataclass(frozen=True)
class AgingRow:
    account_number: str
    name: str
    currency: str
    amounts: Tuple[Decimal, ...]  # one per bucket

    @property
    def total(self) -> Decimal:
        return sum(self.amounts, Decimal("0.00"))


@dataclass(frozen=True)
class AgingReport:
    today: dt.date
    customers: Tuple[AgingRow, ...]
    totals: Tuple[AgingRow, ...]  # one per currency, account "TOTAL"


def build(invoices: Sequence[OpenInvoice], today: dt.date) -> AgingReport:
    per_customer: Dict[Tuple[str, str, str], List[Decimal]] = defaultdict(lambda: [Decimal("0.00")] * len(BUCKETS))
    per_currency: Dict[str, List[Decimal]] = defaultdict(lambda: [Decimal("0.00")] * len(BUCKETS))
    for invoice in invoices:
        due = invoice.amount_due
        if due <= 0:
            continue
        index = BUCKETS.index(bucket_of(invoice.days_overdue(today)))
        per_customer[(invoice.account.account_number, invoice.account.name, invoice.currency)][index] += due
        per_currency[invoice.currency][index] += due
    customers = tuple(AgingRow(a, n, c, tuple(v)) for (a, n, c), v in sorted(per_customer.items()))
    totals = tuple(AgingRow("TOTAL", "", c, tuple(v)) for c, v in sorted(per_currency.items()))
    return AgingReport(today, customers, totals)


async def aging_report(session, today: dt.date) -> AgingReport:
    return build(await open_invoices(session, dt.date.max), today)


def _cells(row: AgingRow) -> List[str]:
    return [row.account_number, row.name, row.currency] + [f"{a:.2f}" for a in row.amounts] + [f"{row.total:.2f}"]


def as_csv(report: AgingReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for row in report.customers + report.totals:
        writer.writerow(_cells(row))
    return out.getvalue()


def as_table(report: AgingReport) -> str:
    """A fixed-width table for the terminal; amounts right-aligned, totals under a rule."""
    rows = [list(HEADER)] + [_cells(r) for r in report.customers]
    totals = [_cells(r) for r in report.totals]
    widths = [max(len(r[i]) for r in rows + totals) for i in range(len(HEADER))]

    def line(cells: List[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "-" * len(line(rows[0]))
    body = (
        [
            f"Aging report, open invoices as of {report.today.isoformat()} (amount due by days overdue)",
            line(rows[0]),
            rule,
        ]
        + [line(r) for r in rows[1:]]
        + [rule]
        + [line(r) for r in totals]
    )
    return "\n".join(body)
