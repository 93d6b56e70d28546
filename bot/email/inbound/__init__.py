"""Email in, as a chain of small filters run in a declared order (``pipeline.FILTERS``):

    dedupe -> bounce -> feedback_report -> automatic -> thread -> route

Each filter does one job and returns an ``Outcome`` (the message is dealt with,
the chain stops) or None (the next filter runs). All but the last step share one
transaction; handing the message to the router happens after it is committed.
"""

from bot.email.inbound.arrival import Arrival, Outcome
from bot.email.inbound.pipeline import FILTERS, Inbox

__all__ = ["Arrival", "FILTERS", "Inbox", "Outcome"]
