"""bot.email.imap against a real Dovecot server (tests/imap_server.py)."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from bot.email.imap import DEFAULT_KEYWORD, ImapAuthFailed, ImapInbox, ImapUnavailable
from bot.email.parse import parse


def _raw(n: int, body: str = "What do I owe?") -> bytes:
    return (
        f"From: Customer {n} <c{n}@example.com>\r\nTo: support@northwind.example\r\n"
        f"Subject: Question {n}\r\nMessage-ID: <q{n}@example.com>\r\n\r\n{body}\r\n"
    ).encode()


def _inbox(server, **kwargs) -> ImapInbox:
    return ImapInbox(server.host, server.port, server.user, server.password, timeout=10, **kwargs)


async def test_fetch_mark_reconnect_returns_only_unprocessed(imap_server):
    uids = [imap_server.deliver(_raw(n)) for n in (1, 2, 3)]
    async with _inbox(imap_server) as inbox:
        fetched = await inbox.fetch_unprocessed()
        assert [uid for uid, _ in fetched] == uids
        assert [parse(raw).message_id for _, raw in fetched] == ["q1@example.com", "q2@example.com", "q3@example.com"]
        assert fetched[0][1] == _raw(1)  # byte for byte
        await inbox.mark_processed(uids[0])
        await inbox.mark_processed(uids[1])
        assert inbox.uidvalidity is not None

    async with _inbox(imap_server) as inbox:
        fetched = await inbox.fetch_unprocessed()
    assert [(uid, parse(raw).message_id) for uid, raw in fetched] == [(uids[2], "q3@example.com")]

    # Server-side state: the keyword on two messages, and nothing marked \Seen.
    flags = {uid: set(f) for uid, f, _ in imap_server.messages()}
    assert DEFAULT_KEYWORD in flags[uids[0]] and DEFAULT_KEYWORD in flags[uids[1]]
    assert DEFAULT_KEYWORD not in flags[uids[2]]
    assert not any("\\Seen" in f for f in flags.values())


async def test_seen_messages_are_still_fetched(imap_server):
    """An agent reading the inbox in a mail client must not make the bot skip mail."""
    uid = imap_server.deliver(_raw(1), flags="\\Seen")
    async with _inbox(imap_server) as inbox:
        assert [u for u, _ in await inbox.fetch_unprocessed()] == [uid]


async def test_batches_and_limit(imap_server):
    uids = [imap_server.deliver(_raw(n)) for n in range(5)]
    async with _inbox(imap_server, batch_size=2) as inbox:
        assert [u for u, _ in await inbox.fetch_unprocessed()] == uids
        assert [u for u, _ in await inbox.fetch_unprocessed(limit=3)] == uids[:3]


async def test_empty_mailbox_and_other_folder(imap_server):
    imap_server.deliver(_raw(7), folder="Support")
    async with _inbox(imap_server) as inbox:
        assert await inbox.fetch_unprocessed() == []
    async with _inbox(imap_server, folder="Support") as inbox:
        assert [parse(raw).message_id for _, raw in await inbox.fetch_unprocessed()] == ["q7@example.com"]


async def test_large_message_round_trip(imap_server):
    raw = _raw(1, body="x" * 76 + "\r\n" * 1 + ("y" * 998 + "\r\n") * 2000)
    imap_server.deliver(raw)
    async with _inbox(imap_server) as inbox:
        [(_, fetched)] = await inbox.fetch_unprocessed()
    assert fetched == raw


async def test_idle_wakes_up_when_mail_arrives(imap_server):
    async with _inbox(imap_server) as inbox:
        assert inbox.supports_idle
        assert await inbox.fetch_unprocessed() == []
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        waiting = asyncio.ensure_future(inbox.wait_for_new(timeout=20))
        await asyncio.sleep(0.3)  # IDLE is running on the server
        await loop.run_in_executor(None, imap_server.deliver, _raw(9))
        assert await asyncio.wait_for(waiting, 15) is True
        assert time.monotonic() - started < 10  # well before the 20 s timeout: IDLE woke it
        # The connection is usable again after IDLE.
        assert [parse(raw).message_id for _, raw in await inbox.fetch_unprocessed()] == ["q9@example.com"]


async def test_idle_times_out_quietly(imap_server):
    async with _inbox(imap_server) as inbox:
        started = time.monotonic()
        assert await inbox.wait_for_new(timeout=0.5) is False
        assert time.monotonic() - started < 8
        assert await inbox.fetch_unprocessed() == []


async def test_polling_when_the_server_has_no_idle(imap_server, monkeypatch):
    monkeypatch.setattr(ImapInbox, "supports_idle", property(lambda self: False))
    async with _inbox(imap_server) as inbox:
        loop = asyncio.get_running_loop()
        waiting = asyncio.ensure_future(inbox.wait_for_new(timeout=10, poll_interval=0.2))
        await asyncio.sleep(0.3)
        await loop.run_in_executor(None, imap_server.deliver, _raw(4))
        assert await asyncio.wait_for(waiting, 10) is True
        assert await inbox.wait_for_new(timeout=0.3, poll_interval=0.1) is False


async def test_wrong_password(imap_server):
    inbox = ImapInbox(imap_server.host, imap_server.port, imap_server.user, "wrong", timeout=10)
    with pytest.raises(ImapAuthFailed):
        await inbox.connect()
    await inbox.logout()  # harmless after a failed connect


async def test_nothing_listening():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = ImapInbox("127.0.0.1", port, "u", "p", timeout=5)
    with pytest.raises(ImapUnavailable):
        await inbox.connect()


async def test_server_going_away_is_unavailable(imap_server):
    imap_server.deliver(_raw(1))
    inbox = _inbox(imap_server)
    inbox.timeout = 3
    await inbox.connect()
    imap_server.stop()
    with pytest.raises(ImapUnavailable):
        await inbox.fetch_unprocessed()
    await inbox.logout()


def test_keyword_is_validated():
    with pytest.raises(ValueError):
        ImapInbox("h", 1, "u", "p", keyword="bad keyword)")


@pytest.mark.parametrize("command", [
    lambda inbox: inbox.fetch_unprocessed(),
    lambda inbox: inbox.mark_processed(1),
    lambda inbox: inbox.wait_for_new(timeout=1),
], ids=["fetch", "mark", "wait"])
async def test_commands_before_connecting_or_after_logout_are_unavailable(command):
    inbox = ImapInbox("127.0.0.1", 1, "u", "p")
    with pytest.raises(ImapUnavailable, match="not connected"):
        await command(inbox)
    await inbox.logout()
    with pytest.raises(ImapUnavailable, match="not connected"):
        await command(inbox)


async def test_server_going_away_during_idle_is_unavailable(imap_server):
    async with _inbox(imap_server) as inbox:
        waiting = asyncio.ensure_future(inbox.wait_for_new(timeout=30))
        await asyncio.sleep(0.3)
        started = time.monotonic()
        imap_server.stop()
        with pytest.raises(ImapUnavailable):
            await asyncio.wait_for(waiting, 10)
        assert time.monotonic() - started < 5


async def test_cancelled_wait_then_logout_is_quick(imap_server):
    inbox = _inbox(imap_server)
    await inbox.connect()
    waiting = asyncio.ensure_future(inbox.wait_for_new(timeout=30))
    await asyncio.sleep(0.3)
    started = time.monotonic()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await inbox.logout()
    assert time.monotonic() - started < 3
