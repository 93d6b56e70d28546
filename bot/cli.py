"""The `bot` command: set up, start and look after the support bot."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import List, Optional

from bot.config import ConfigError, get_settings, today
from bot.dunning import cli as dunning_commands


def _db_upgrade(args: argparse.Namespace) -> int:
    from bot.db import migrate

    migrate.upgrade()
    print("Database schema is up to date.")
    return 0


async def _seed(reset: bool, if_empty: bool) -> int:
    from bot.db import dispose_engines, session_scope
    from bot.demo import history as demo_history
    from bot.demo import seed

    settings = get_settings()
    try:
        async with session_scope() as session:
            existing = await seed.customer_count(session)
            if existing and if_empty:
                print(f"Demo data already present ({existing} customers).")
                await _seed_agents(settings)
                await _seed_history(settings)
                return 0
            if existing and not reset:
                print("The database already has customers; use --reset to replace them.", file=sys.stderr)
                return 1
            if reset:
                await demo_history.clear_demo_history(session)
                await seed.clear(session)
            created = await seed.seed(session, today(settings), secret_iterations=settings.secret_hash_iterations)
        print(f"Seeded {created} demo customers.")
        await _seed_agents(settings)
        await _seed_history(settings)
        return 0
    finally:
        await dispose_engines()


async def _seed_agents(settings) -> None:
    import datetime as dt

    from bot.db import session_scope
    from bot.demo import agents as hub_seed

    async with session_scope() as session:
        created = await hub_seed.seed_hub(session, settings.demo_agent_password, dt.datetime.now(dt.timezone.utc))
    if created:
        print(f"Created {created} demo agents for the console.")


async def _seed_history(settings) -> None:
    """Four weeks of conversations, handoffs, ratings, reminders and payments for the Reports page."""
    from bot.db import session_scope
    from bot.demo import history as demo_history
    from bot.demo import scenarios

    async with session_scope() as session:
        if await demo_history.has_demo_history(session):
            return
        created = await demo_history.add_demo_history(
            session, today(settings), settings.tz, scenario_customers=len(scenarios.SCENARIOS)
        )
    print(f"Added {created} past conversations and their reminders and payments (the Reports page's demo history).")


async def _add_agent(email: str, name: str, password: str) -> int:
    import datetime as dt

    from bot.conversations import agents
    from bot.db import dispose_engines, session_scope

    try:
        async with session_scope() as session:
            if await agents.agent_by_email(session, email):
                print(f"An agent with the email {email} already exists.", file=sys.stderr)
                return 1
            await agents.create_agent(session, email, name, password, dt.datetime.now(dt.timezone.utc))
    finally:
        await dispose_engines()
    print(f"Added agent {name} <{email}>.")
    return 0


def _agent_add(args: argparse.Namespace) -> int:
    import getpass

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("Password: ")
    if len(password) < 10:
        print("The password must have at least 10 characters.", file=sys.stderr)
        return 2
    return asyncio.run(_add_agent(args.email, args.name, password))


def _serve(args: argparse.Namespace) -> int:
    from bot.hub.app import serve

    serve(get_settings())
    return 0


def _db_seed(args: argparse.Namespace) -> int:
    return asyncio.run(_seed(args.reset, args.if_empty))


def _spacy_build(args: argparse.Namespace) -> int:
    from bot.nlu import spacy_pipeline

    path = spacy_pipeline.build()
    print(f"Built the spaCy pipeline at {path}")
    return 0


def _encoder_fetch(args: argparse.Namespace) -> int:
    from bot.nlu.encoder import fetch

    try:
        path = fetch.fetch()
    except fetch.FetchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"The sentence encoder is in {path}")
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
        settings = get_settings()
        asyncio.run(chat(args.url or settings.rasa.url, settings.rasa.token))
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
        "build", help="build models/spacy/support_en"
    ).set_defaults(run=_spacy_build)

    encoder = commands.add_parser("encoder", help="the pretrained sentence encoder")
    encoder.add_subparsers(dest="encoder_command", required=True).add_parser(
        "fetch", help="download all-MiniLM-L6-v2 into models/encoder"
    ).set_defaults(run=_encoder_fetch)

    train = commands.add_parser("train", help="train the Rasa model if its inputs changed")
    train.add_argument("--force", action="store_true")
    train.set_defaults(run=_train)

    commands.add_parser("start", help="start everything: action server, Rasa server and hub").set_defaults(run=_start)
    commands.add_parser("serve", help="run the hub only (widget, agent console, API)").set_defaults(run=_serve)

    agent = commands.add_parser("agent", help="console agents")
    add = agent.add_subparsers(dest="agent_command", required=True).add_parser("add", help="add an agent")
    add.add_argument("--email", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(run=_agent_add)

    chat = commands.add_parser("chat", help="chat with the running bot in the terminal")
    chat.add_argument("--url", help="Rasa server URL (default: BOT_RASA_URL)")
    chat.set_defaults(run=_chat)
    dunning_commands.register(commands)
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
