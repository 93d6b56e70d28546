"""The support bot: the hub (bot.hub) and the email channel (bot.email) in front, Rasa's
custom parts (bot.nlu, bot.policies) and services (bot.internal) behind, the domains
(bot.accounts, bot.conversations, bot.dunning, bot.analytics) underneath, and the
commands (bot.cli). docs/architecture.md draws the layers."""
