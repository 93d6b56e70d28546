"""The Rasa custom actions the action server runs: ``registry.ACTIONS`` lists every one
(account lookups, verification, payments, reminders, handoff); ``answers.ANSWERS`` maps the
account questions to their answers by intent."""
