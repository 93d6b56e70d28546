"""The conversations bench/load.py's simulated customers hold: varied wording, several turns each.

A conversation is a list of turns for the bot. A turn marked ``handoff`` should hand the
conversation to a person (asked for one, angry, a dispute, hardship); on the hub the customer then
talks to the agent (``to_agent``) until the agent hands back, and carries on with the turns after
it. Against plain Rasa (REST) the agent part is skipped: the same turns go to the bot.

Identities come from the demo seed (bot/demo/scenarios.py: customer n is AC-100000+n, with its
ZIP code and card), so verification works against a freshly seeded database.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Tuple

from bot.accounts import identifiers
from bot.demo.scenarios import all_scenarios


@dataclass(frozen=True)
class Turn:
    text: str
    # This message should hand the conversation to a person (hub: wait for the queue notice).
    handoff: bool = False


@dataclass
class Conversation:
    kind: str
    turns: List[Turn]
    # What the customer says to the agent after a handoff (hub only), one line per agent reply.
    to_agent: Tuple[str, ...] = ()
    account: str = ""
    notes: Dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Identity:
    account: str
    email: str
    zip_code: str
    last4: str  # "" without a card
    first_name: str


def identities() -> List[Identity]:
    """Every seeded demo customer (the named scenarios and the filler), as the seed numbers them."""
    found = []
    for index, scenario in enumerate(all_scenarios(32), start=1):
        found.append(
            Identity(
                account=identifiers.account_number(str(100000 + index)),
                email=scenario.email,
                zip_code=scenario.zip_code,
                last4=scenario.card[1] if scenario.card else "",
                first_name=scenario.name.split()[0],
            )
        )
    return found


IDENTITIES = identities()
# Named scenarios worth asking particular questions of (see README.md's table).
OVERDUE = [i for i in IDENTITIES if i.account in ("AC-100003", "AC-100004", "AC-100005", "AC-100006", "AC-100007")]
DECLINED = [i for i in IDENTITIES if i.account in ("AC-100008", "AC-100009")]
EXPIRING = [i for i in IDENTITIES if i.account == "AC-100010"]

GREETINGS = ["hi", "hello there", "hey", "good morning", "hi, hope you can help", "hello!"]
BALANCE = [
    "what do I owe",
    "how much do i owe you guys",
    "whats my balance",
    "can you tell me my outstanding balance please",
    "how much is my electricity bill this month",
    "do I still owe you anything?",
    "what's the total on my gas bill",
    "balance please",
]
INVOICES = ["show my invoices", "can I see my open bills", "list my invoices please", "which invoices are unpaid"]
REMINDER = [
    "why did I get a reminder letter?",
    "i got an overdue email, why",
    "why are you sending me reminders",
    "what is this reminder about, I thought I paid",
]
PAYMENT_LINK = [
    "send me a payment link",
    "how do i pay my energy bill",
    "can I pay online?",
    "i want to pay my bill now, where do I do that",
]
NEXT_PAYMENT = ["when is my next payment due", "when do I have to pay next", "next due date?"]
CARD_DECLINED = ["why was my card declined", "my payment failed, why?", "the card payment didn't go through"]
CARD_EXPIRING = ["is my card expiring", "when does my card on file expire", "is the card you have still valid"]
PROMISE = ["I'll pay next friday", "can I have two more weeks", "i can pay on the 15th", "I will pay it next week"]
THANKS = ["thanks", "thank you!", "great, thanks a lot", "cheers", "ok thank you"]
BYE = ["bye", "that's all, goodbye", "ok bye", "have a nice day"]
SMALL_TALK = [
    "are you a bot?",
    "am I talking to a real person",
    "what can you do",
    "what can you help me with",
    "how does this chat work",
]
OUT_OF_SCOPE = [
    "is it going to snow in denver this weekend",
    "why did my spotify subscription go up this month",
    "can you recommend a good pizza place",
    "who won the game last night",
    "my phone bill from verizon is wrong",
    "tell me a joke",
]
ENERGY = [
    "where do I send a meter reading",
    "my power is out, what do I do",
    "I'm moving house next month",
    "can I switch to a cheaper tariff",
]
ANGRY = [
    "this is absolutely disgraceful, the worst service I have ever had, I am furious",
    "this is ridiculous, I'm sick of your useless bot, get me a human NOW",
    "I am so angry, you charged me again and nobody helps, this is a joke",
    "terrible service, I've been waiting for weeks and I'm fed up",
]
ASK_PERSON = [
    "I want to talk to a real person",
    "agent please",
    "can i speak to someone from your team",
    "connect me to a live agent",
]
DISPUTE = [
    "I don't recognise this charge on my bill, I want to dispute it",
    "this invoice is wrong, I never used that much gas",
]
HARDSHIP = ["I lost my job and can't pay", "I can't afford this bill right now, what can I do"]
TO_AGENT = [
    ("thanks for picking this up", "ok, that helps, thank you"),
    ("hi, yes, it's about my last bill", "alright, thanks"),
    ("sorry for the shouting, I've just had a bad week", "thank you, that's fine"),
]
IDENTIFY = ["{account}", "it's {account}", "my account number is {account}", "{lower}", "account {account}"]


def _identify(rng: random.Random, who: Identity) -> str:
    if rng.random() < 0.15:
        return who.email
    return rng.choice(IDENTIFY).format(account=who.account, lower=who.account.lower())


def _secret(rng: random.Random, who: Identity) -> str:
    if who.last4 and rng.random() < 0.25:
        return rng.choice(["{}", "last four {}", "card ends in {}"]).format(who.last4)
    return rng.choice(["{}", "zip is {}", "{} is my zip"]).format(who.zip_code)


def _verify(rng: random.Random, who: Identity, wrong_first: bool = False) -> List[Turn]:
    turns = [Turn(_identify(rng, who))]
    if wrong_first:
        turns.append(Turn("99999" if who.zip_code != "99999" else "11111"))
    turns.append(Turn(_secret(rng, who)))
    return turns


def _end(rng: random.Random) -> List[Turn]:
    return [Turn(rng.choice(THANKS))] + ([Turn(rng.choice(BYE))] if rng.random() < 0.5 else [])


def balance(rng: random.Random) -> Conversation:
    who = rng.choice(IDENTITIES)
    opener = ([Turn(rng.choice(GREETINGS))] if rng.random() < 0.4 else []) + [Turn(rng.choice(BALANCE))]
    more = rng.sample([INVOICES, NEXT_PAYMENT, PAYMENT_LINK, REMINDER], k=rng.randint(1, 2))
    follow = [Turn(rng.choice(options)) for options in more]
    turns = opener + _verify(rng, who, wrong_first=rng.random() < 0.1) + follow + _end(rng)
    return Conversation("balance", turns, account=who.account)


def reminder(rng: random.Random) -> Conversation:
    who = rng.choice(OVERDUE)
    turns = [Turn(rng.choice(REMINDER))] + _verify(rng, who) + [Turn(rng.choice(PAYMENT_LINK))]
    if rng.random() < 0.4:
        turns.append(Turn(rng.choice(PROMISE)))
    return Conversation("reminder", turns + _end(rng), account=who.account)


def payment_link(rng: random.Random) -> Conversation:
    who = rng.choice(IDENTITIES)
    turns = [Turn(rng.choice(PAYMENT_LINK))] + _verify(rng, who)
    return Conversation("payment link", turns + [Turn(rng.choice(NEXT_PAYMENT))] + _end(rng), account=who.account)


def cards(rng: random.Random) -> Conversation:
    if rng.random() < 0.5:
        who, question = rng.choice(DECLINED), rng.choice(CARD_DECLINED)
    else:
        who, question = rng.choice(EXPIRING), rng.choice(CARD_EXPIRING)
    turns = [Turn(question)] + _verify(rng, who) + [Turn("how do I update my card")]
    return Conversation("cards", turns + _end(rng), account=who.account)


def small_talk(rng: random.Random) -> Conversation:
    turns = [Turn(rng.choice(GREETINGS))] + [Turn(t) for t in rng.sample(SMALL_TALK, k=2)]
    if rng.random() < 0.5:
        turns.append(Turn(rng.choice(ENERGY)))
    return Conversation("small talk", turns + _end(rng))


def out_of_scope(rng: random.Random) -> Conversation:
    turns = [Turn(t) for t in rng.sample(OUT_OF_SCOPE, k=2)] + [Turn(rng.choice(SMALL_TALK[2:]))]
    return Conversation("out of scope", turns + [Turn(rng.choice(BYE))])


def angry(rng: random.Random) -> Conversation:
    """Verifies, asks, gets angry: a person takes over, answers and hands back; then one more question."""
    who = rng.choice(OVERDUE)
    turns = [Turn(rng.choice(BALANCE))] + _verify(rng, who) + [Turn(rng.choice(ANGRY), handoff=True)]
    after = [Turn(rng.choice(NEXT_PAYMENT)), Turn(rng.choice(THANKS))]
    return Conversation("angry, to a person", turns + after, to_agent=rng.choice(TO_AGENT), account=who.account)


def asks_for_person(rng: random.Random) -> Conversation:
    trigger = rng.choice([ASK_PERSON, ASK_PERSON, DISPUTE, HARDSHIP])
    turns = ([Turn(rng.choice(GREETINGS))] if rng.random() < 0.5 else []) + [Turn(rng.choice(trigger), handoff=True)]
    return Conversation("asks for a person", turns + [Turn(rng.choice(SMALL_TALK[2:])), Turn(rng.choice(BYE))],
                        to_agent=rng.choice(TO_AGENT))


# (weight, maker): about one conversation in six goes to a person.
KINDS: List[Tuple[float, Callable[[random.Random], Conversation]]] = [
    (5, balance),
    (3, reminder),
    (2, payment_link),
    (2, cards),
    (2, small_talk),
    (2, out_of_scope),
    (2, angry),
    (1, asks_for_person),
]


def conversation(rng: random.Random) -> Conversation:
    weights = [w for w, _ in KINDS]
    maker = rng.choices([m for _, m in KINDS], weights=weights)[0]
    return maker(rng)


def warm_up_lines() -> List[str]:
    """A few messages that touch the NLU, a rule, a form and an action before anything is timed."""
    who = IDENTITIES[4]
    return ["hello", "what do I owe", who.account, who.zip_code, "why did I get a reminder", "thanks"]
