"""A notice before a card on file expires, once per card."""

from sqlalchemy import update

from bot.accounts.models import Card
from bot.db import session_scope
from tests.bot.dunning.conftest import at, months_ahead


async def test_a_card_expiring_within_the_notice_period_gets_one_notice(world):
    made = await world.customer([-20], card_months=0, last4="1117")  # expires November 30, like AC-100010
    report = await world.run(at(0))
    assert report.sent == [f"card-expiry notice for card 1117 of {made.account_number} to {made.email}"]
    (mail,) = world.mail_to(made.email)
    assert mail["Subject"] == "Your card ending in 1117 expires soon"
    assert mail["Message-ID"] == f"<card-expiry.{made.card_id}.2026-11@northwind.example>"
    assert "at the end of November 2026" in " ".join(mail.get_body(("plain",)).get_content().split())
    assert (await world.run(at(5))).sent == [] and len(world.mail_to(made.email)) == 1


async def test_the_notice_starts_days_before_the_end_of_the_expiry_month(world):
    made = await world.customer([-20], card_months=1)  # valid until December 31: 43 days away
    assert (await world.run(at(0))).sent == []
    assert (await world.run(at(12))).sent == []  # 31 days before
    assert len((await world.run(at(13))).sent) == 1  # 30 days before


async def test_a_renewed_card_gets_its_own_notice_later(world):
    made = await world.customer([-20], card_months=0)
    await world.run(at(0))
    year, month = months_ahead(12)
    async with session_scope(world.url) as session:
        await session.execute(update(Card).where(Card.id == made.card_id).values(exp_year=year, exp_month=month))
    assert (await world.run(at(1))).sent == []
    assert len((await world.run(at(340))).sent) == 1
    assert len(world.mail_to(made.email)) == 2


async def test_expired_cards_and_opted_out_customers_get_no_notice(world):
    await world.customer([-20], card_months=-1)
    await world.customer([-20], card_months=0, opted_out=True)
    report = await world.run(at(0))
    assert report.sent == [] and report.held == {"opted out of reminders": 1}
