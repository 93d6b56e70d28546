"""Outgoing mail: composing messages (pure) and handing them to SMTP or the local outbox.

    message = compose.message(...)          # no I/O
    await send.deliver(message, settings)   # the thin layer that talks to the network
"""
