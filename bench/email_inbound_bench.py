"""How many inbound emails per second the whole email path handles.

Real parts: a private Dovecot IMAP server holding the inbox, an aiosmtpd SMTP
server receiving the replies, the hub's email channel (fetch, parse, store,
thread, route, outbound queue, send) on a fresh SQLite or PostgreSQL database. Rasa is
replaced by a stand-in HTTP server that answers at once, so the figure is the
hub's own throughput; pass --rasa-url to put a running Rasa server behind it
instead (then Rasa's speed dominates).

    .venv/bin/python bench/email_inbound_bench.py --emails 300
    .venv/bin/python bench/email_inbound_bench.py --emails 300 --postgres

Needs dovecot-imapd (bin/system-packages). Prints the time from the first
delivery to the last reply received by the SMTP server.
"""

from __future__ import annotations

import argparse
import asyncio
import email.utils
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from aiohttp import web  # noqa: E402

from bot import config  # noqa: E402
from bot.db import dispose_engines, migrate
from bot.hub.app import build_app  # noqa: E402
from tests.imap_server import ImapServer  # noqa: E402
from tests.smtp_server import SmtpServer  # noqa: E402


def raw_mail(n: int) -> bytes:
    return (f"From: Customer {n} <customer{n}@example.com>\r\nTo: support@northwind.example\r\n"
            f"Subject: Question {n}\r\nMessage-ID: <{uuid.uuid4().hex}@example.com>\r\n"
            f"Date: {email.utils.formatdate()}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"Hello, what do I owe? ({n})\r\n\r\nThanks\r\n").encode()


async def stand_in_rasa() -> tuple:
    async def webhook(request):
        body = await request.json()
        return web.json_response([{"recipient_id": body["sender"], "text": "I can help with that."}])

    from bot.hub.rasa_client import WEBHOOK

    app = web.Application()
    app.router.add_post(WEBHOOK, webhook)
    app.router.add_get("/status", lambda request: web.json_response({}))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}"


def fresh_database(postgres: str, work: Path) -> tuple:
    if not postgres:
        return f"sqlite+aiosqlite:///{work / 'bench.db'}", None
    admin_url = postgres
    name = f"bot_email_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return config.async_database_url(admin_url.rsplit("/", 1)[0] + f"/{name}"), (admin, name)


async def main(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="email-bench-"))
    db_url, cleanup = fresh_database(args.postgres, work)
    migrate.upgrade(config.sync_database_url(db_url))
    imap, smtp = ImapServer(), SmtpServer()
    imap.start()
    smtp.controller.start()
    rasa_runner, rasa_url = (None, args.rasa_url) if args.rasa_url else await stand_in_rasa()
    settings = config.load_settings({
        **{k: v for k, v in os.environ.items() if k.startswith("BOT_")},
        "BOT_DATABASE_URL": db_url, "BOT_RASA_URL": rasa_url,
        "BOT_IMAP_HOST": imap.host, "BOT_IMAP_PORT": str(imap.port), "BOT_IMAP_USERNAME": imap.user,
        "BOT_IMAP_PASSWORD": imap.password, "BOT_IMAP_SECURITY": "none",
        "BOT_SMTP_HOST": smtp.host, "BOT_SMTP_PORT": str(smtp.port), "BOT_EMAIL_FROM_ADDRESS": "support@northwind.example",
        "BOT_EMAIL_POLL_SECONDS": "0.2", "BOT_EMAIL_AUTO_REPLY_CAP": str(args.emails + 1),
    })
    app = build_app(settings, db_url=db_url)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        mails = [raw_mail(n) for n in range(args.emails)]
        started = time.perf_counter()
        for raw in mails:
            await asyncio.get_running_loop().run_in_executor(None, imap.deliver, raw)
        delivered = time.perf_counter()
        while len(smtp.envelopes) < args.emails:
            if time.perf_counter() - started > args.timeout:
                print(f"timed out with {len(smtp.envelopes)} of {args.emails} replies")
                break
            await asyncio.sleep(0.05)
        finished = time.perf_counter()
        handled = len(smtp.envelopes)
        print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}; Rasa: {args.rasa_url or 'stand-in'}")
        print(f"emails: {args.emails}; replies received by SMTP: {handled}")
        print(f"delivering into the IMAP inbox took {delivered - started:.1f} s (the bench's own APPENDs)")
        print(f"first delivery to last reply: {finished - started:.1f} s; "
              f"throughput: {handled / (finished - started):.1f} emails/s")
    finally:
        await runner.cleanup()
        if rasa_runner is not None:
            await rasa_runner.cleanup()
        smtp.controller.stop()
        imap.stop()
        await dispose_engines()
        if cleanup is not None:
            admin, name = cleanup
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=200)
    parser.add_argument("--postgres", nargs="?", const="postgresql://postgres@127.0.0.1:5432/postgres", default="",
                        help="use a scratch database on this PostgreSQL server (default: the local one)")
    parser.add_argument("--rasa-url", help="a running Rasa server instead of the stand-in")
    parser.add_argument("--timeout", type=float, default=600)
    asyncio.run(main(parser.parse_args()))
