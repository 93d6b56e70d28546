"""The email package's exceptions: what callers can act on."""

from __future__ import annotations


class HeaderInjection(ValueError):
    """A value meant for a header contains a line break or is not a valid address: never sent."""


class SendError(Exception):
    """The message was not handed over; it may be tried again."""


class TemporaryFailure(SendError):
    """The server was unreachable, timed out or answered 4xx: try again later."""


class PermanentFailure(SendError):
    """The server refused the message (5xx): trying again will not help."""
