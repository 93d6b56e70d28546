"""Runs mail files through the real inbound filter chain (bot.email.inbound) on a real database,
with a router that only records what would have been answered. Shared by test_corpus and
bench/email_corpus_bench.py."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import traceback
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from sqlalchemy import delete

from bot.conversations.lifecycle import Lifecycle
from bot.db import session_scope
from bot.email.models import InboundEmail
from bot.email import bounces, feedback_reports, parse
from bot.email.inbound import Inbox, Outcome
from bot.email.inbound.arrival import stable_message_id

CORPUS = Path(__file__).resolve().parent / "corpus"
SISIMAI = CORPUS / "sisimai"
OWN = CORPUS / "own"
NOT_BOUNCES = {"feedback", "delivered"}
DIFFERENCES = CORPUS / "sisimai_differences.tsv"


class RecordingRouter:
    """Stands in for bot.hub.routing.Router: records each message the bot would answer."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.lifecycle = Lifecycle()
        self.answered: List[str] = []

    async def customer_message(self, channel, session_key, raw_text, client_message_id=None):
        self.answered.append(client_message_id)
        return types.SimpleNamespace(conversation_id="not-stored", duplicate=False)


@dataclass
class Result:
    name: str
    outcome: Optional[Outcome]
    answered: bool
    crash: Optional[str] = None
    bounce: Optional[bounces.Bounce] = None
    feedback: Optional[feedback_reports.FeedbackReport] = None


@dataclass
class Label:
    reasons: List[str]
    hard: List[bool]

    @property
    def is_bounce(self) -> bool:
        return bool(self.reasons) and self.reasons[0] not in NOT_BOUNCES

    @property
    def is_feedback(self) -> bool:
        return "feedback" in self.reasons


def sisimai_labels() -> Dict[str, Label]:
    with open(SISIMAI / "labels.tsv", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return {r["file"]: Label([x for x in r["sisimai_reasons"].split(";") if x],
                             [h == "true" for h in r["sisimai_hardbounce"].split(";") if h]) for r in rows}


def half(name: str) -> str:
    """"dev" or "check": a fixed split of the sisimai corpus by a hash of the file name. Rules are
    worked out on dev; check shows whether they hold on files they were not made for."""
    return "check" if hashlib.sha256(name.encode()).digest()[0] % 2 else "dev"


def known_differences() -> Dict[str, List[str]]:
    """Per file, where we knowingly differ from sisimai (sisimai_differences.tsv says why)."""
    with open(DIFFERENCES, newline="") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t")]
    out: Dict[str, List[str]] = {}
    for row in rows:
        out.setdefault(row["file"], []).append(row["differs_in"])
    return {name: sorted(kinds) for name, kinds in out.items()}


def differences(result: "Result", label: "Label") -> List[str]:
    """Where our reading of one bounce differs from sisimai's: not_recognised, hard_soft (the
    bounce's hard flag), recipients (how many failed recipients)."""
    if result.bounce is None:
        return ["not_recognised"]
    out = []
    if result.bounce.hard != any(label.hard):
        out.append("hard_soft")
    if len(result.bounce.recipients) != len(label.reasons):
        out.append("recipients")
    return out


async def run_files(paths: List[Path], settings, db_url: str) -> List[Result]:
    router = RecordingRouter(db_url)
    inbox = Inbox(settings, router, lambda: dt.datetime.now(dt.timezone.utc))
    results = []
    for path in paths:
        raw = path.read_bytes()
        before = len(router.answered)
        # Each file is a separate arrival, but sisimai's samples reuse Message-IDs: forget the earlier one.
        async with session_scope(db_url) as session:
            await session.execute(delete(InboundEmail).where(
                InboundEmail.message_id == stable_message_id(parse.parse(raw), raw)))
        try:
            outcome, crash = await inbox.process(raw), None
        except Exception:
            outcome, crash = None, traceback.format_exc(limit=3)
        results.append(Result(path.name, outcome, len(router.answered) > before, crash,
                              bounces.parse_bounce(raw), feedback_reports.parse_feedback_report(raw)))
    return results


@dataclass
class Figures:
    files: int = 0
    crashes: int = 0
    answered: int = 0
    bounces_expected: int = 0
    bounces_recognised: int = 0
    with_recipient: int = 0
    hard_soft_agree: int = 0
    feedback_expected: int = 0
    feedback_recognised: int = 0
    disagreements: List[str] = field(default_factory=list)
    missed: List[str] = field(default_factory=list)

    def lines(self) -> List[str]:
        pct = lambda n, d: f"{n}/{d} ({100.0 * n / d:.1f}%)" if d else "0/0"
        return [f"files: {self.files}, crashes: {self.crashes}",
                f"never answered: {pct(self.files - self.answered, self.files)}",
                f"recognised as bounces (where sisimai says bounce): {pct(self.bounces_recognised, self.bounces_expected)}",
                f"  with the failed recipient named: {pct(self.with_recipient, self.bounces_expected)}",
                f"hard/soft agreeing with sisimai's flag: {pct(self.hard_soft_agree, self.bounces_expected)}"
                f" (of recognised: {pct(self.hard_soft_agree, self.bounces_recognised)})",
                f"feedback reports recognised as such: {pct(self.feedback_recognised, self.feedback_expected)}"]


def sisimai_figures(results: List[Result], labels: Dict[str, Label]) -> Figures:
    f = Figures(files=len(results))
    for r in results:
        label = labels[r.name]
        f.crashes += r.crash is not None
        f.answered += r.answered
        if label.is_bounce:
            f.bounces_expected += 1
            if r.bounce is None:
                f.missed.append(r.name)
                continue
            f.bounces_recognised += 1
            f.with_recipient += bool(r.bounce.recipients)
            if r.bounce.hard == any(label.hard):
                f.hard_soft_agree += 1
            else:
                f.disagreements.append(r.name)
        # sisimai names its files after the module that reads them: arf-* are its feedback reports.
        if label.is_feedback or r.name.startswith("arf-"):
            f.feedback_expected += 1
            f.feedback_recognised += r.feedback is not None and r.outcome is not None \
                and r.outcome.action == "feedback_report"
    return f
