"""Bad input and a refusing SMTP server: clear errors, and nothing marked sent that was not sent."""

import shutil

import pytest
import yaml

from bot.config import get_settings
from bot.dunning.policy import DEFAULT_POLICY, DEFAULT_TEMPLATES, load_policy
from tests.bot.dunning.conftest import at
from tests.conftest import use_settings


@pytest.mark.parametrize("code", [451, 550])
async def test_an_smtp_refusal_leaves_nothing_recorded_and_the_next_run_sends(world, code):
    made = await world.customer([3], sent=["upcoming"])
    world.smtp.refuse(code)
    report = await world.run(at(0))
    assert report.sent == [] and not report.ok
    assert report.failed == [f"friendly reminder for {made.numbers[0]} to {made.email}: "
                             f"SMTP server answered {code} refused by the test server"]
    assert await world.stages(made.invoice_ids[0]) == ["upcoming"] and await world.claims() == []
    world.smtp.refuse(None)
    assert len((await world.run(at(0, hour=13))).sent) == 1
    assert await world.stages(made.invoice_ids[0]) == ["upcoming", "friendly"]


async def test_a_temporary_failure_stops_the_run_but_a_permanent_one_does_not(world, monkeypatch):
    use_settings(monkeypatch, database_url=world.url, dunning_send_concurrency="1", **world.smtp.settings())
    for _ in range(3):
        await world.customer([3], sent=["upcoming"])
    world.smtp.refuse(451)
    temporary = await world.run(at(0))
    # The first refusal stops the run: the others are not tried (and not claimed).
    assert len(temporary.failed) == 1 and temporary.stopped.startswith("stopped sending: SMTP server answered 451")
    assert len(world.smtp.handler.envelopes) == 0 and await world.claims() == []
    world.smtp.refuse(550)
    permanent = await world.run(at(0, hour=13))
    assert len(permanent.failed) == 3 and permanent.stopped is None
    assert await world.claims() == []


async def test_an_unreachable_smtp_server_sends_and_records_nothing(world, monkeypatch):
    from tests.bot.hub.conftest import free_port

    made = await world.customer([3], sent=["upcoming"])
    use_settings(monkeypatch, database_url=world.url, smtp_host="127.0.0.1", smtp_port=str(free_port()),
                 smtp_timeout_seconds="2")
    report = await world.run(at(0))
    assert report.sent == [] and "unavailable" in report.failed[0] and report.stopped
    assert await world.stages(made.invoice_ids[0]) == ["upcoming"] and await world.claims() == []


async def test_an_invoice_without_an_email_address_is_reported_not_sent(world):
    made = await world.customer([3], sent=["upcoming"], email="")
    ok = await world.customer([3], sent=["upcoming"])
    report = await world.run(at(0))
    assert report.problems == [f"friendly reminder for {made.numbers[0]}: customer {made.account_number} "
                               "has no email address"]
    assert report.sent == [f"friendly reminder for {ok.numbers[0]} to {ok.email}"]  # the others still go out
    assert await world.stages(made.invoice_ids[0]) == ["upcoming"]


async def test_a_malformed_address_is_reported_not_sent(world):
    made = await world.customer([3], sent=["upcoming"], email="robin at example.org")
    report = await world.run(at(0))
    assert "bad email address" in report.problems[0] and report.sent == []
    assert await world.claims() == []


async def test_a_template_missing_a_variable_sends_nothing_for_that_stage(world, tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(DEFAULT_TEMPLATES, templates)
    (templates / "friendly.html").write_text("<p>Dear {{ customer.title }} {{ customer.name }}</p>")
    data = yaml.safe_load(DEFAULT_POLICY.read_text())
    data["templates_dir"] = str(templates)
    path = tmp_path / "policy.yml"
    path.write_text(yaml.safe_dump(data))
    made = await world.customer([3], sent=["upcoming"])
    firm = await world.customer([30], sent=["upcoming", "friendly"])
    report = await world.run(at(0), policy=load_policy(path))
    assert len(report.problems) == 1
    assert report.problems[0].startswith(f"friendly reminder for {made.numbers[0]}: friendly.html (template "
                                         "'friendly') uses a value the engine does not provide")
    assert "title" in report.problems[0]
    assert report.sent == [f"firm reminder for {firm.numbers[0]} to {firm.email}"]
    assert await world.stages(made.invoice_ids[0]) == ["upcoming"] and len(world.smtp.messages) == 1


async def test_without_an_smtp_server_letters_go_to_the_outbox(world, monkeypatch, tmp_path):
    made = await world.customer([3], sent=["upcoming"])
    outbox = tmp_path / "outbox"
    use_settings(monkeypatch, database_url=world.url, smtp_host="", email_outbox_dir=str(outbox))
    assert get_settings().smtp.host == ""
    report = await world.run(at(0))
    assert len(report.sent) == 1
    assert [p.name for p in outbox.iterdir()] == [f"reminder.{made.numbers[0]}.friendly@northwind.example.eml"]
