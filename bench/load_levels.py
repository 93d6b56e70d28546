"""One bench/load.py level: N simulated customers for a number of seconds against the plain Rasa or
the hub (with something else running during it, for the faults), and the untimed warm-up."""

from __future__ import annotations

import argparse
import asyncio
import random
from typing import Any, Callable, Optional

import aiohttp

from bench import load_scripts
from bench.load_customers import Abandon, hub_conversation, rest_conversation
from bench.load_report import LevelStats
from bench.load_stack import Stack, now


async def run_level(path: str, n: int, stack: Stack, args: argparse.Namespace, seed: int,
                    seconds: Optional[float] = None, during: Optional[Callable[[float], Any]] = None) -> LevelStats:
    seconds = seconds or args.seconds
    stats = LevelStats(path, n, seconds)
    rngs = [random.Random(seed * 1000 + i) for i in range(n)]
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) if path == "plain" else None

    async def customer(index: int) -> None:
        rng = rngs[index]
        await asyncio.sleep(rng.uniform(0, min(1.0, args.think * 2)))  # don't all start at one instant
        while now() < end and len(stats.turns) < args.max_messages:
            conv = load_scripts.conversation(rng)
            stats.conversations += 1
            try:
                if path == "plain":
                    await rest_conversation(stack.plain_url, http, conv, stats, args, rng, end)
                else:
                    await hub_conversation(stack.hub_urls, conv, stats, args, rng, end, home=index)
            except Abandon:
                await asyncio.sleep(0.5)

    stats.started = now()
    end = stats.started + seconds
    tasks = [asyncio.ensure_future(customer(i)) for i in range(n)]
    extra = asyncio.ensure_future(during(stats.started)) if during else None
    try:
        limit = seconds + args.reply_timeout + 3 * args.agent_timeout + 30
        done, pending = await asyncio.wait(tasks + ([extra] if extra else []), timeout=limit)
        for task in pending:
            task.cancel()
            stats.error("customer cut off at the time limit")
        for task in done:
            if task.exception() is not None:
                stats.error(f"crash: {task.exception()!r}")
    finally:
        if http:
            await http.close()
    return stats


async def warm_up(path: str, stack: Stack, args: argparse.Namespace, hub: int = 0) -> None:
    conv = load_scripts.Conversation("warm-up", [load_scripts.Turn(t) for t in load_scripts.warm_up_lines()])
    stats = LevelStats(path, 1, 0)
    rng = random.Random(0)
    quiet = argparse.Namespace(**{**vars(args), "think": 0.0})
    if path == "plain":
        async with aiohttp.ClientSession() as http:
            await rest_conversation(stack.plain_url, http, conv, stats, quiet, rng, now() + 300)
    else:
        await hub_conversation(stack.hub_urls, conv, stats, quiet, rng, now() + 300, home=hub)
    if stats.errors:
        raise RuntimeError(f"warm-up against {path} failed: {dict(stats.errors)}")
