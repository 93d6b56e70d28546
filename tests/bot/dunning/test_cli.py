"""`bot dunning run | report | preview` on the seeded demo data (SQLite copy, local outbox)."""

import csv

import pytest

from bot.cli import main
from tests.conftest import TODAY, use_settings


@pytest.fixture
def demo(sqlite_db, monkeypatch, tmp_path):
    outbox = tmp_path / "outbox"
    use_settings(monkeypatch, database_url=sqlite_db, email_outbox_dir=str(outbox))
    return outbox


def test_a_run_on_the_demo_data_sends_the_right_emails_once(demo, capsys):
    assert main(["dunning", "run", "--today", TODAY.isoformat()]) == 0
    first = capsys.readouterr().out
    # Noah's card was reported lost (hard): update-card email, never a retry.
    assert "sent: update-card email for INV-20028 to noah.williams@example.com" in first
    # Olivia's card expires this month.
    assert "sent: card-expiry notice for card 1117 of AC-100010 to olivia.brown@example.com" in first
    # Emma's card declined for insufficient funds (soft): retried, and the sandbox declines 0341 again.
    assert "card retry 1 of INV-20025 on card 0341 (" in first and "): insufficient_funds" in first
    assert "noah" not in " ".join(line for line in first.splitlines() if "retry" in line)
    files = sorted(p.name for p in demo.iterdir())
    assert "update-card.INV-20028." in " ".join(files) and len(files) == first.count("  sent: ")

    assert main(["dunning", "run", "--today", TODAY.isoformat()]) == 0
    second = capsys.readouterr().out
    assert "Sent 0 email(s), 0 card retries, 0 problem(s)." in second
    assert sorted(p.name for p in demo.iterdir()) == files


def test_a_dry_run_and_the_report_change_nothing(demo, capsys, tmp_path):
    assert main(["dunning", "run", "--dry-run", "--today", TODAY.isoformat()]) == 0
    dry = capsys.readouterr().out
    assert "(dry run: nothing sent or changed)" in dry and "would send: update-card email for INV-20028" in dry
    assert not demo.exists()
    path = tmp_path / "aging.csv"
    assert main(["dunning", "report", "--csv", str(path), "--today", TODAY.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "Aging report, open invoices as of 2026-11-18" in out and "would send: update-card email" in out
    rows = list(csv.reader(path.open()))
    assert rows[0][:3] == ["account", "name", "currency"] and rows[-1][0] == "TOTAL"
    assert main(["dunning", "run", "--dry-run", "--today", TODAY.isoformat()]) == 0
    assert capsys.readouterr().out == dry  # nothing changed in between
    assert not demo.exists()


def test_preview_renders_any_stage_for_any_invoice(demo, capsys):
    assert main(["dunning", "preview", "--invoice", "inv 20028", "--stage", "firm"]) == 0
    out = capsys.readouterr().out
    assert "Subject: Second reminder: invoice INV-20028 is 8 days overdue" in out
    assert "Auto-Submitted: auto-generated" in out and "Message-ID: <reminder.INV-20028.firm@northwind.example>" in out
    assert "Pay online: https://pay.northwind.example/invoice/INV-20028" in out
    assert main(["dunning", "preview", "--invoice", "INV-20028", "--stage", "final", "--html"]) == 0
    assert "<strong>final notice</strong>" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--invoice", "INV-99999", "--stage", "firm"], "there is no invoice INV-99999"),
    (["--invoice", "hello", "--stage", "firm"], "'hello' is not an invoice number"),
    (["--invoice", "INV-20028", "--stage", "angry"], "no stage 'angry'"),
])
def test_preview_explains_what_is_wrong(demo, capsys, args, message):
    assert main(["dunning", "preview", *args]) == 1
    assert message in capsys.readouterr().err


def test_an_invalid_policy_stops_before_anything_happens(demo, sqlite_db, monkeypatch, tmp_path, capsys):
    bad = tmp_path / "policy.yml"
    bad.write_text("stages:\n  - {name: friendly, day: three, template: friendly, subject: Hi}\n")
    use_settings(monkeypatch, database_url=sqlite_db, dunning_policy=str(bad), email_outbox_dir=str(demo))
    assert main(["dunning", "run", "--today", TODAY.isoformat()]) == 2
    err = capsys.readouterr().err
    assert err == f"Dunning policy error: {bad}: stages[0].day: expected a whole number of days, got 'three'\n"
    assert not demo.exists()
