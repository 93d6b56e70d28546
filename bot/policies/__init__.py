"""Rasa dialogue policies of our own: ``escalation_policy.EscalationPolicy`` hands a
conversation to a person by the rules of bot.escalation (anger, repeated fallbacks, topics)."""
