"""A terminal chat with the running bot over the hub's Rasa channel (with its token)."""

from __future__ import annotations

import asyncio
import json
import uuid

import aiohttp

from bot.hub.rasa_client import WEBHOOK
from bot.internal.tokens import bearer


def render(message: dict) -> str:
    if "text" in message:
        text = message["text"]
        for button in message.get("buttons") or []:
            text += f"\n  [{button.get('title')}]"
        return text
    if "custom" in message and "handoff" in (message["custom"] or {}):
        handoff = message["custom"]["handoff"]
        return f"(handed to a person: {handoff.get('reason')}, priority {handoff.get('priority')})"
    return json.dumps(message)


async def chat(rasa_url: str, token: str) -> None:
    sender = f"terminal-{uuid.uuid4().hex[:8]}"
    url = f"{rasa_url.rstrip('/')}{WEBHOOK}"
    print(f"Chatting as {sender}. Type /quit to stop.")
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession(headers={"Authorization": bearer(token)}) as session:
        while True:
            text = (await loop.run_in_executor(None, input, "you> ")).strip()
            if text in ("/quit", "/exit"):
                return
            if not text:
                continue
            try:
                async with session.post(
                    url, json={"sender": sender, "message": text}, timeout=aiohttp.ClientTimeout(total=60)
                ) as response:
                    replies = await response.json(content_type=None) if response.status == 200 else None
                    if replies is None:
                        print(f"bot> (the bot answered HTTP {response.status})")
                        continue
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                print(f"bot> (can't reach the bot at {url}: {exc})")
                continue
            if not replies:
                print("bot> (no reply: a person has this conversation)")
            for reply in replies:
                print(f"bot> {render(reply)}")
