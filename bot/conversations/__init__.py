"""Conversations: the store every channel shares, and the one owner of their lifecycle.

- ``models``: conversations, messages, handoffs, agents and their sessions, notes,
  canned replies, CSAT ratings; ``store`` and ``agents``: their data functions
- ``status``: the status machine (pure); ``lifecycle``: every status change
  (escalate, take, hand back, resolve, alert) with its handoff record and one change
  event after commit
- ``intake``: what a channel needs to hand a message in (text rules, errors, the
  router's interface), so channels depend on this package and not on the hub
"""
