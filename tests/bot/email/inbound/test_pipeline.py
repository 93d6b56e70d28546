"""The filter chain's declared order, and that broken mail is kept, never dropped."""

from __future__ import annotations

from bot.email.inbound import automatic, bounce, dedupe, feedback_report, route, thread
from bot.email.inbound.pipeline import FILTERS
from tests.bot.email.corpus_run import run_files


def test_filters_run_in_the_declared_order():
    assert FILTERS == (dedupe.run, bounce.run, feedback_report.run, automatic.run, thread.run, route.hold_automatic)


async def test_garbage_and_senderless_mail_is_kept_for_an_agent(db, tmp_path):
    from bot.config import get_settings

    files = {"garbage.eml": b"\x00\xff\xfe not mail at all", "no-sender.eml": b"Subject: hello\r\n\r\nwho am I?\r\n",
             "empty.eml": b""}
    for name, raw in files.items():
        (tmp_path / name).write_bytes(raw)
    results = await run_files(sorted(tmp_path.glob("*.eml")), get_settings(), db)
    assert [(r.name, r.crash) for r in results if r.crash] == []
    assert {r.name: r.outcome.action for r in results} == {n: "automatic" for n in files}
    assert all(r.outcome.detail == "no usable sender address" for r in results)
    assert not any(r.answered for r in results)
