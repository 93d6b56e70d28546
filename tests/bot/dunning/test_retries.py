"""Smart retries through the gateway interface: soft declines retried on schedule, hard
declines never (an update-card email instead), a successful retry pays and stops dunning."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.accounts.models import Invoice, Payment, PaymentAttempt
from bot.db import session_scope
from bot.dunning.gateway import TEST_CARDS, SandboxGateway
from bot.dunning.rows import CardRow
from tests.bot.dunning.conftest import at
from tests.conftest import TODAY


async def decline(world, made, code, kind, days_ago):
    async with session_scope(world.url) as session:
        session.add(PaymentAttempt(invoice_id=made.invoice_ids[0], card_id=made.card_id, attempted_at=at(-days_ago, hour=1),
                                   amount=Decimal("120.00"), outcome="declined", decline_code=code, decline_type=kind))


async def attempts(world, made):
    async with session_scope(world.url) as session:
        rows = await session.execute(select(PaymentAttempt.outcome, PaymentAttempt.decline_code)
                                     .where(PaymentAttempt.invoice_id == made.invoice_ids[0]).order_by(PaymentAttempt.id))
        return [tuple(r) for r in rows.all()]


async def test_a_soft_decline_on_a_card_that_keeps_failing_is_retried_on_schedule(world):
    made = await world.customer([5], sent=["upcoming", "friendly"], last4="0341")  # like demo AC-100008
    await decline(world, made, "insufficient_funds", "soft", days_ago=0)
    assert (await world.run(at(0, hour=23))).retries == []  # not yet a day since the decline

    first = await world.run(at(1))
    assert first.retries == [f"retry 1 of {made.numbers[0]} on card 0341 (120.00 USD): insufficient_funds"]
    assert (await world.run(at(2))).retries == []  # the next retry is 3 days after the first decline
    assert len((await world.run(at(3))).retries) == 1
    assert await attempts(world, made) == [("declined", "insufficient_funds")] * 3
    assert world.smtp.messages == []  # a soft decline is not the customer's fault to fix


async def test_a_successful_retry_pays_the_invoice_and_stops_dunning(world):
    made = await world.customer([2], sent=["upcoming"], last4="5000")  # any other card succeeds
    await decline(world, made, "processing_error", "soft", days_ago=2)
    report = await world.run(at(1))  # day 3: friendly would be due, but the retry comes first
    assert report.retries == [f"retry 1 of {made.numbers[0]} on card 5000 (120.00 USD): paid"]
    assert report.sent == []
    async with session_scope(world.url) as session:
        invoice = await session.get(Invoice, made.invoice_ids[0])
        payments = (await session.execute(select(Payment.amount).where(Payment.invoice_id == invoice.id))).scalars().all()
    assert (invoice.status, invoice.paid_on, payments) == ("paid", at(1).date(), [Decimal("120.00")])
    assert await attempts(world, made) == [("declined", "processing_error"), ("succeeded", None)]
    assert (await world.run(at(30))).sent == []


async def test_a_hard_decline_is_never_retried_and_asks_for_a_new_card_once(world):
    made = await world.customer([8], sent=["upcoming", "friendly"], last4="0119")  # like demo AC-100009
    await decline(world, made, "card_reported_lost", "hard", days_ago=2)
    report = await world.run(at(0))
    assert report.retries == []
    assert report.sent == [f"update-card email for {made.numbers[0]} to {made.email}"]
    (mail,) = world.mail_to(made.email)
    text = mail.get_body(("plain",)).get_content()
    assert "the card was reported lost" in text and "https://pay.northwind.example/account/card" in text
    assert mail["Auto-Submitted"] == "auto-generated"
    for day in (1, 3, 5, 7, 9):
        assert (await world.run(at(day))).retries == []
    assert len(world.mail_to(made.email)) == 1 and await attempts(world, made) == [("declined", "card_reported_lost")]


async def test_a_retry_claimed_by_a_run_that_died_asks_the_gateway_again_with_the_same_key(world):
    made = await world.customer([5], sent=["upcoming", "friendly"], last4="5000")
    await decline(world, made, "insufficient_funds", "soft", days_ago=2)

    class DiesAfterCharging(SandboxGateway):
        async def charge(self, card, amount, currency, *, idempotency_key, today):
            await super().charge(card, amount, currency, idempotency_key=idempotency_key, today=today)
            raise SystemExit("killed")

    with pytest.raises(SystemExit):
        await world.run(at(0), gateway=DiesAfterCharging())
    assert [c.state for c in await world.claims()] == ["claimed"]
    gateway = SandboxGateway()
    report = await world.run(at(0, minute=30), gateway=gateway)
    assert report.recovered == [f"retry:{made.numbers[0]}:1: asked the gateway again, paid"]
    assert list(gateway.charges) == [f"retry:{made.numbers[0]}:1"]
    assert await attempts(world, made) == [("declined", "insufficient_funds"), ("succeeded", None)]


async def test_a_gateway_error_releases_the_retry_for_the_next_run(world):
    made = await world.customer([5], sent=["upcoming", "friendly"], last4="5000")
    await decline(world, made, "insufficient_funds", "soft", days_ago=2)

    class Down(SandboxGateway):
        async def charge(self, *args, **kwargs):
            raise ConnectionError("gateway unreachable")

    report = await world.run(at(0), gateway=Down())
    assert report.retries == [] and "gateway unreachable" in report.failed[0] and not report.ok
    assert await world.claims() == []
    assert len((await world.run(at(0, hour=13))).retries) == 1


@pytest.mark.parametrize("last4, expected", [(k, v) for k, v in TEST_CARDS.items()] + [("4242", None)])
async def test_the_sandbox_decides_by_the_card_on_file(last4, expected):
    card = CardRow(1, 1, "visa", last4, 12, 2030)
    outcome = await SandboxGateway().charge(card, Decimal("10.00"), "USD", idempotency_key=f"k{last4}", today=TODAY)
    assert ((outcome.decline_code, outcome.decline_type) if not outcome.succeeded else None) == expected


async def test_the_sandbox_declines_an_expired_card_and_keeps_answers_by_key():
    gateway = SandboxGateway()
    expired = CardRow(1, 1, "visa", "4242", 10, 2026)
    outcome = await gateway.charge(expired, Decimal("1.00"), "USD", idempotency_key="a", today=TODAY)
    assert (outcome.succeeded, outcome.decline_code, outcome.decline_type) == (False, "expired_card", "hard")
    valid = CardRow(1, 1, "visa", "4242", 10, 2030)
    assert await gateway.charge(valid, Decimal("1.00"), "USD", idempotency_key="a", today=TODAY) == outcome
