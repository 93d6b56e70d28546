"""At most once per invoice and stage: overlapping runs, and a run that dies after sending."""

import asyncio

import pytest
from sqlalchemy.exc import IntegrityError

from bot.db import session_scope
from bot.dunning import claims
from bot.dunning.claims import Claim
from bot.dunning.models import DunningClaim
from bot.email import transport
from tests.bot.dunning.conftest import at


async def test_two_overlapping_runs_send_each_letter_once(world):
    made = [await world.customer([3, 30, 60], sent=[]) for _ in range(4)]

    async def slow_deliver(message, settings):
        await asyncio.sleep(0.02)  # keep both runs in flight together
        return await transport.deliver(message, settings)

    first, second = await asyncio.gather(world.run(at(0), deliver=slow_deliver),
                                         world.run(at(0), deliver=slow_deliver))
    ids = [m["Message-ID"] for m in world.smtp.messages]
    assert len(ids) == 12 and len(set(ids)) == 12
    assert not set(first.sent) & set(second.sent)
    assert len(first.sent) + len(second.sent) == 12
    # Both runs planned the same letters; the claims decided which one sent them.
    assert first.taken_by_another_run + second.taken_by_another_run == 12
    for customer in made:
        for invoice_id in customer.invoice_ids:
            assert len(await world.stages(invoice_id)) == 1
    assert {c.state for c in await world.claims()} == {"done"}
    assert (await world.run(at(0, hour=14))).sent == []


async def test_the_database_refuses_a_second_claim_of_the_same_key(world):
    made = await world.customer([3])
    claim = Claim(f"reminder:{made.numbers[0]}:friendly", "reminder", made.customer_id, made.invoice_ids[0])
    async with session_scope(world.url) as session:
        assert await claims.claim(session, "run-a", [claim], at(0)) == {claim.key}
    async with session_scope(world.url) as session:
        assert await claims.claim(session, "run-b", [claim], at(0)) == set()  # the other run lost
    with pytest.raises(IntegrityError):  # the unique key itself, not a check in code
        async with session_scope(world.url) as session:
            session.add(DunningClaim(key=claim.key, kind="reminder", customer_id=made.customer_id,
                                     run_id="run-c", state="claimed", claimed_at=at(0)))


class PowerCut(Exception):
    pass


async def test_a_crash_between_sending_and_recording_neither_loses_the_record_nor_sends_twice(world):
    made = await world.customer([3], sent=["upcoming"])

    async def deliver_then_die(message, settings):
        await transport.deliver(message, settings)
        raise PowerCut()

    with pytest.raises(PowerCut):
        await world.run(at(0), deliver=deliver_then_die)
    assert len(world.mail_to(made.email)) == 1
    assert await world.stages(made.invoice_ids[0]) == ["upcoming"]  # not recorded yet
    assert [c.state for c in await world.claims()] == ["claimed"]

    # Within the lease the claim may still be a live run's: nothing is sent or recorded.
    soon = await world.run(at(0, minute=10))
    assert soon.sent == [] and soon.recovered == []
    assert len(world.mail_to(made.email)) == 1

    later = await world.run(at(0, minute=20))  # the lease (15 minutes) has passed
    assert later.recovered == [f"reminder:{made.numbers[0]}:friendly: recorded as sent (unconfirmed), not sent again"]
    assert later.sent == [] and len(world.mail_to(made.email)) == 1
    assert await world.stages(made.invoice_ids[0]) == ["upcoming", "friendly"]
    (claim,) = await world.claims()
    assert claim.state == "unconfirmed"
    assert (await world.run(at(1))).sent == [] and len(world.mail_to(made.email)) == 1
