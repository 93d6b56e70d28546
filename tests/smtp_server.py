"""A real SMTP server for tests: aiosmtpd in a thread, keeping what it receives.

``smtp_server`` (a fixture, imported into tests/conftest.py) starts one on a free
port; ``smtp_server.messages`` are the parsed messages, ``smtp_server.envelopes``
the raw envelopes; ``smtp_server.refuse(code)`` makes it answer every message with
that SMTP code (e.g. 451 temporary, 550 permanent) until ``refuse(None)``.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from email.message import EmailMessage
from typing import List, Optional

import pytest
from aiosmtpd.controller import Controller


class _Handler:
    def __init__(self) -> None:
        self.envelopes = []
        self.refusal: Optional[int] = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.refusal is not None:
            return f"{self.refusal} refused by the test server"
        with self.lock:
            self.envelopes.append(envelope)
        return "250 OK"


class SmtpServer:
    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.host = "127.0.0.1"
        self.handler = _Handler()
        self.controller = Controller(self.handler, hostname=self.host, port=self.port)

    @property
    def envelopes(self):
        with self.handler.lock:
            return list(self.handler.envelopes)

    @property
    def messages(self) -> List[EmailMessage]:
        return [email.message_from_bytes(e.content, policy=email.policy.default) for e in self.envelopes]

    def refuse(self, code: Optional[int]) -> None:
        self.handler.refusal = code

    def settings(self) -> dict:
        """BOT_* values that point the product at this server (for use_settings)."""
        return {"smtp_host": self.host, "smtp_port": str(self.port)}


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    server.controller.start()
    yield server
    server.controller.stop()
