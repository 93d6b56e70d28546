"""What the demo history's conversations say, why they went to people and how they were rated."""

# Why conversations went to people, and how often (the escalation reasons of bot.escalation).
REASON_WEIGHTS = (
    ("asked_for_person", 30),
    ("anger", 20),
    ("hardship", 12),
    ("dispute", 12),
    ("repeated_fallback", 10),
    ("billing_error", 8),
    ("cancellation", 5),
    ("refund", 3),
)
RATING_WEIGHTS = (5, 7, 13, 35, 40)  # 1..5 stars
QUESTIONS = (
    "What do I owe?",
    "When is my bill due?",
    "Why did I get a reminder?",
    "Can I get a payment link?",
    "How do I submit a meter reading?",
    "Which tariff am I on?",
    "I want to update my card",
    "Can I pay next Friday?",
    "Why is my bill so high this month?",
)
ANSWERS = (
    "Your balance is shown below.",
    "Here is a secure payment link.",
    "Thanks, that is recorded.",
    "Your next bill is due on the 28th.",
    "I can help with that.",
)
