"""The demo customers: one named scenario per situation the bot must handle (listed in
README.md so a person can try each one), plus generated filler customers (fixed seed)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import List, Optional, Tuple


@dataclass
class Scenario:
    """One demo customer and the state of their account."""

    name: str
    email: str
    zip_code: str
    card: Optional[Tuple[str, str, int]]  # brand, last4, months from now until expiry
    days_overdue: List[int] = field(default_factory=list)  # one open invoice each; negative = not yet due
    paid_invoices: int = 2
    currency: str = "USD"
    decline: Optional[Tuple[str, str]] = None  # (code, soft|hard) on the newest open invoice
    disputed: bool = False
    promise_in_days: Optional[int] = None
    opted_out: bool = False
    undeliverable: bool = False
    note: str = ""


SCENARIOS: List[Scenario] = [
    Scenario("Maria Lopez", "maria.lopez@example.com", "94107", ("visa", "4242", 20), [], 3, note="paid up"),
    Scenario(
        "James Carter",
        "james.carter@example.com",
        "10001",
        ("mastercard", "5454", 14),
        [-3],
        note="invoice due in 3 days",
    ),
    Scenario(
        "Aisha Khan",
        "aisha.khan@example.com",
        "60614",
        ("visa", "1881", 9),
        [12],
        note="12 days overdue, friendly reminder sent",
    ),
    Scenario(
        "Tom Becker",
        "tom.becker@example.com",
        "73301",
        ("amex", "0005", 30),
        [45],
        note="45 days overdue, firm reminder sent",
    ),
    Scenario(
        "Li Wei",
        "li.wei@example.com",
        "98101",
        ("visa", "3220", 11),
        [75],
        note="75 days overdue, final notice with late fee",
    ),
    Scenario(
        "Sofia Rossi",
        "sofia.rossi@example.com",
        "02139",
        ("mastercard", "4444", 7),
        [105],
        note="105 days overdue, in collections",
    ),
    Scenario(
        "Daniel Okafor",
        "daniel.okafor@example.com",
        "30301",
        ("visa", "9876", 18),
        [150, 20],
        note="over 120 days overdue plus a newer invoice",
    ),
    Scenario(
        "Emma Schmidt",
        "emma.schmidt@example.com",
        "80202",
        ("visa", "0341", 16),
        [5],
        decline=("insufficient_funds", "soft"),
        note="card declined (soft: insufficient funds)",
    ),
    Scenario(
        "Noah Williams",
        "noah.williams@example.com",
        "33101",
        ("mastercard", "0119", 22),
        [8],
        decline=("card_reported_lost", "hard"),
        note="card declined (hard: card reported lost)",
    ),
    Scenario(
        "Olivia Brown",
        "olivia.brown@example.com",
        "85001",
        ("visa", "1117", 0),
        [-10],
        note="card on file expires this month",
    ),
    Scenario(
        "Lucas Martin",
        "lucas.martin@example.com",
        "97201",
        ("visa", "2223", 12),
        [20],
        disputed=True,
        note="disputed invoice",
    ),
    Scenario(
        "Chloe Dubois",
        "chloe.dubois@example.com",
        "19103",
        ("mastercard", "8210", 15),
        [25],
        promise_in_days=6,
        note="active promise to pay in 6 days",
    ),
    Scenario(
        "Hannah Meyer",
        "hannah.meyer@example.com",
        "55401",
        ("visa", "6060", 24),
        [15, -12],
        currency="EUR",
        note="billed in euros, one overdue and one upcoming invoice",
    ),
    Scenario(
        "Ben Adams",
        "ben.adams@example.com",
        "37201",
        ("visa", "7070", 26),
        [35],
        opted_out=True,
        note="opted out of email reminders",
    ),
    Scenario(
        "Grace Kim",
        "grace.kim@example.com",
        "92101",
        ("visa", "5151", 19),
        [33],
        undeliverable=True,
        note="email address bounced",
    ),
    Scenario(
        "Omar Haddad", "omar.haddad@example.com", "48201", None, [3], note="no card on file (verify with ZIP code only)"
    ),
]

FIRST_NAMES = [
    "Ava",
    "Ethan",
    "Mia",
    "Leo",
    "Zoe",
    "Ryan",
    "Nina",
    "Sam",
    "Iris",
    "Jack",
    "Lena",
    "Owen",
    "Ruby",
    "Finn",
    "Maya",
    "Eli",
    "Nora",
    "Adam",
    "Lucy",
    "Hugo",
    "Sara",
    "Ivan",
    "Rosa",
    "Theo",
    "Amir",
    "Kate",
    "Yuki",
    "Paul",
    "Jana",
    "Carl",
    "Dina",
    "Rafael",
]
LAST_NAMES = [
    "Nguyen",
    "Patel",
    "Garcia",
    "Johnson",
    "Silva",
    "Novak",
    "Ito",
    "Moreau",
    "Jensen",
    "Costa",
    "Fischer",
    "Ahmed",
    "Walsh",
    "Kowalski",
    "Reyes",
    "Olsen",
    "Tanaka",
    "Bauer",
]
DESCRIPTIONS = ["Monthly energy plan", "Electricity usage", "Gas usage", "Service fee", "Smart meter rental"]
BRANDS = ["visa", "mastercard", "amex"]


def _filler_scenarios(count: int, rng: random.Random) -> List[Scenario]:
    scenarios = []
    for i in range(count):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        email = f"{name.lower().replace(' ', '.')}{i}@example.net"
        situation = rng.choice(["paid", "paid", "upcoming", "overdue", "overdue", "decline"])
        overdue = {
            "paid": [],
            "upcoming": [rng.randint(-20, -1)],
            "overdue": [rng.choice([rng.randint(1, 30), rng.randint(31, 60), rng.randint(61, 130)])],
            "decline": [rng.randint(1, 20)],
        }[situation]
        decline = None
        if situation == "decline":
            decline = rng.choice(
                [("insufficient_funds", "soft"), ("processing_error", "soft"), ("do_not_honor", "hard")]
            )
        scenarios.append(
            Scenario(
                name=name,
                email=email,
                zip_code=f"{rng.randint(10000, 99999)}",
                card=(rng.choice(BRANDS), f"{rng.randint(0, 9999):04d}", rng.randint(1, 36)),
                days_overdue=overdue,
                paid_invoices=rng.randint(0, 4),
                decline=decline,
                note=f"filler: {situation}",
            )
        )
    return scenarios


def all_scenarios(filler: int = 32) -> List[Scenario]:
    return SCENARIOS + _filler_scenarios(filler, random.Random(42))
