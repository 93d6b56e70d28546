"""The demo data covers every situation the bot must handle."""

from sqlalchemy import func, select

from bot.accounts import queries
from bot.accounts.models import Customer, Invoice, PromiseToPay
from bot.db import session_scope
from bot.demo.scenarios import SCENARIOS
from tests.conftest import TODAY

BUCKETS = [(1, 30), (31, 60), (61, 90), (91, 120), (121, 10_000)]


async def test_dozens_of_customers_in_every_aging_bucket(sqlite_db):
    async with session_scope() as session:
        count = (await session.execute(select(func.count(Customer.id)))).scalar_one()
        due_dates = (await session.execute(
            select(Invoice.due_on).where(Invoice.status == "open"))).scalars().all()
        promises = (await session.execute(
            select(func.count(PromiseToPay.id)).where(PromiseToPay.status == "active"))).scalar_one()
        disputed = (await session.execute(
            select(func.count(Invoice.id)).where(Invoice.status == "disputed"))).scalar_one()
    assert count >= 36
    overdue = [(TODAY - d).days for d in due_dates]
    assert any(days < 0 for days in overdue), "an upcoming invoice"
    for low, high in BUCKETS:
        assert any(low <= days <= high for days in overdue), f"an invoice {low}-{high} days overdue"
    assert promises >= 1 and disputed >= 1


async def test_scenario_customers_are_where_the_readme_says(sqlite_db):
    async with session_scope() as session:
        for index, scenario in enumerate(SCENARIOS, start=1):
            found = await queries.find_customer(session, f"AC-{100000 + index}")
            assert found.name == scenario.name and found.email == scenario.email
