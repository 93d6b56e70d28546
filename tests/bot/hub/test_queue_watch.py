"""A matter queued outside this hub process (the dunning engine runs from cron) reaches
the consoles: the queue watch notices the queue changed and sends it."""

from __future__ import annotations

import datetime as dt

from bot.accounts import queries
from bot.db import session_scope
from bot.dunning import alerts
from tests.hub_clients import console_socket, eventually


async def test_a_dunning_alert_reaches_an_open_console(running_hub):
    alex = await running_hub.login()
    events = {"queue": []}
    console = await console_socket(running_hub.url, alex, events)
    async with session_scope() as session:
        li = await queries.find_customer(session, "AC-100005")
        # As `bot dunning run` does it: its own lifecycle, which no console subscribes to.
        await alerts.alert_agents(session, customer_id=li.id, invoice_number="INV-20015", reason="collections",
                                  note="reached collections", summary={"invoice": "INV-20015"},
                                  now=dt.datetime.now(dt.timezone.utc))
    queue = await eventually(lambda: events["queue"] and events["queue"][-1]["queue"], 15)
    assert [(item["reason"], item["customer"]["account_number"]) for item in queue] == [("collections", "AC-100005")]
    assert queue[0]["customer"]["verified"] is False  # known from our records, not verified by the bot
    await console.disconnect()
    await alex.close()
