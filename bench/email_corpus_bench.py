"""What the inbound email filters make of real mail, in one run.

Every file of the sisimai corpus (461 real bounces, delivery notices and feedback
reports from about 300 mail servers; tests/bot/email/corpus/sisimai) and of our own
fixtures (tests/bot/email/corpus/own: vacation replies, list mail, challenge-response,
ordinary customer mail) goes through the real filter chain (bot.email.inbound) on a
fresh SQLite database; the router only records what the bot would have answered.

    .venv/bin/python bench/email_corpus_bench.py            # figures
    .venv/bin/python bench/email_corpus_bench.py --list     # and the files behind each miss

The sisimai figures measure against the world; the own fixtures were written with the
rules, so their figures only show the rules work as meant. Both are printed separately.
The sisimai corpus is also split in two halves by a hash of each file name (corpus_run.half):
"dev", the files rules may be worked out on, and "check", kept for seeing whether they hold.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import config  # noqa: E402
from bot.db import dispose_engines, migrate
from tests.bot.email.corpus_run import OWN, SISIMAI, half, run_files, sisimai_figures, sisimai_labels  # noqa: E402


async def main(args: argparse.Namespace) -> None:
    logging.disable(logging.WARNING)  # each bounce logs a warning; the figures are the output here
    work = Path(tempfile.mkdtemp(prefix="email-corpus-"))
    db_url = f"sqlite+aiosqlite:///{work / 'bench.db'}"
    migrate.upgrade(config.sync_database_url(db_url))
    settings = config.load_settings({"BOT_DATABASE_URL": db_url})
    started = time.perf_counter()
    results = await run_files(sorted(SISIMAI.glob("*.eml")), settings, db_url)
    labels = sisimai_labels()
    figures = sisimai_figures(results, labels)
    print(f"sisimai corpus ({time.perf_counter() - started:.1f} s)")
    for line in figures.lines():
        print("  " + line)
    for part in ("dev", "check"):  # a fixed split by file name (see the docstring)
        some = sisimai_figures([r for r in results if half(r.name) == part], labels)
        print(f"  {part} half ({some.files} files): {some.lines()[2].split(': ', 1)[1]} recognised;"
              f" hard/soft {some.lines()[4].split(': ', 1)[1]}")
    if args.list:
        print("  not recognised as bounces:", " ".join(figures.missed))
        print("  hard/soft differs from sisimai:", " ".join(figures.disagreements))
        print("  answered:", " ".join(r.name for r in results if r.answered))
        print("  crashed:", " ".join(r.name for r in results if r.crash))
    print("own fixtures (written with the rules)")
    for kind, should_answer in (("automatic", False), ("ordinary", True)):
        own = await run_files(sorted((OWN / kind).glob("*.eml")), settings, db_url)
        right = [r for r in own if r.answered == should_answer and r.crash is None]
        verb = "answered" if should_answer else "not answered"
        print(f"  {kind}: {len(right)}/{len(own)} {verb}, crashes {sum(r.crash is not None for r in own)}")
        if args.list:
            print("    wrong:", " ".join(r.name for r in own if r not in right))
    await dispose_engines()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="name the files behind each miss")
    asyncio.run(main(parser.parse_args()))
