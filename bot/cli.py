"""The `bot` command: set up, start and look after the support bot."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import List, Optional

from bot.config import ConfigError, get_settings, today


def _db_upgrade(args: argparse.Namespace) -> int:
    from bot.db import migrate

    migrate.upgrade()
    print("Database schema is up to date.")
    return 0


async def _seed(reset: bool, if_empty: bool) -> int:
    from bot.db import dispose_engines, seed, session_scope

    settings = get_settings()
    try:
        async with session_scope() as session:
            existing = await seed.customer_count(session)
            if existing and if_empty:
                print(f"Demo data already present ({existing} customers).")
                return 0
            if existing and not reset:
                print("The database already has customers; use --reset to replace them.", file=sys.stderr)
                return 1
            if reset:
                await seed.clear(session)
            created = await seed.seed(session, today(settings), secret_iterations=settings.secret_hash_iterations)
        print(f"Seeded {created} demo customers.")
        return 0
    finally:
        await dispose_engines()


def _db_seed(args: argparse.Namespace) -> int:
    return asyncio.run(_seed(args.reset, args.if_empty))


def _spacy_build(args: argparse.Namespace) -> int:
    from bot.nlu import spacy_pipeline

    path = spacy_pipeline.build()
    print(f"Built the spaCy pipeline at {path}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from bot import training

    training.train(force=args.force)
    return 0


def _start(args: argparse.Namespace) -> int:
    from bot import supervisor, training

    model = training.train()
    return asyncio.run(supervisor.run(get_settings(), model))


def _chat(args: argparse.Namespace) -> int:
    from bot.chat import chat

    try:
        asyncio.run(chat(args.url or get_settings().rasa_url))
    except (KeyboardInterrupt, EOFError):
        print()
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="bot", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    db = commands.add_parser("db", help="database schema and demo data")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply migrations").set_defaults(run=_db_upgrade)
    seed = db_commands.add_parser("seed", help="create the demo customers")
    seed.add_argument("--reset", action="store_true", help="replace existing account data")
    seed.add_argument("--if-empty", action="store_true", help="do nothing when customers exist")
    seed.set_defaults(run=_db_seed)

    spacy_cmd = commands.add_parser("spacy", help="the project's spaCy pipeline")
    spacy_cmd.add_subparsers(dest="spacy_command", required=True).add_parser(
        "build", help="build models/spacy/support_en").set_defaults(run=_spacy_build)

    train = commands.add_parser("train", help="train the Rasa model if its inputs changed")
    train.add_argument("--force", action="store_true")
    train.set_defaults(run=_train)

    commands.add_parser("start", help="start the Rasa server and the action server").set_defaults(run=_start)

    chat = commands.add_parser("chat", help="chat with the running bot in the terminal")
    chat.add_argument("--url", help="Rasa server URL (default: BOT_RASA_URL)")
    chat.set_defaults(run=_chat)
    return root


def main(argv: Optional[List[str]] = None) -> int:
    args = parser().parse_args(argv)
    try:
        get_settings()
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
