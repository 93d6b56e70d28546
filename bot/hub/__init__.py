"""The hub: the front door for the website widget and the agent console.

Every customer message is stored first, then routed by its conversation's status
(see :mod:`bot.conversations.status`): to Rasa while the bot has it, to the agents while a
person has it. ``bot serve`` runs it; :func:`bot.hub.app.build_app` builds it.
"""
