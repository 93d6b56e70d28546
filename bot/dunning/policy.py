"""The dunning policy: a YAML file, checked on load.

Every mistake is reported with the file and the place in it (``stages[2].day``),
so a finance person editing the file sees what to fix before anything is sent.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Dict, Optional, Tuple, Union

import jinja2
import yaml

DEFAULT_POLICY = Path(__file__).resolve().parent / "policy.yml"
DEFAULT_TEMPLATES = Path(__file__).resolve().parent / "templates"
CHANNELS = ("email",)
_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


class PolicyError(ValueError):
    """The policy file is missing, not YAML, or describes an impossible schedule."""


@dataclass(frozen=True)
class Stage:
    name: str
    day: int  # relative to the due date; negative = before it
    template: str
    subject: str  # a Jinja template
    channel: str = "email"
    adds_fee: bool = False
    hand_to_person: bool = False


@dataclass(frozen=True)
class QuietHours:
    start: dt.time
    end: dt.time

    def contains(self, local: dt.time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # spans midnight


@dataclass(frozen=True)
class Policy:
    stages: Tuple[Stage, ...]
    late_fee: Decimal
    quiet_hours: Optional[QuietHours]
    soft_retry_days: Tuple[int, ...]
    update_card_template: str
    update_card_subject: str
    card_expiry_days: int
    card_expiry_template: str
    card_expiry_subject: str
    templates_dir: Path
    source: str

    def stage(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(f"no stage {name!r} in {self.source} (stages: {', '.join(self.stage_names)})")

    @property
    def stage_names(self) -> Tuple[str, ...]:
        return tuple(s.name for s in self.stages)

    @property
    def earliest_day(self) -> int:
        return self.stages[0].day


def load_policy(path: Union[str, Path, None] = None) -> Policy:
    """Reads and checks the policy file (the shipped default when ``path`` is empty)."""
    path = Path(path) if path else DEFAULT_POLICY
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"cannot read the dunning policy {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path} is not valid YAML: {exc}") from exc
    return parse_policy(data, source=str(path), base=path.parent)


def policy_for(settings) -> Policy:
    return load_policy(settings.dunning.policy or None)


class _Reader:
    """Pulls typed values out of the YAML, naming the place of any mistake."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> PolicyError:
        return PolicyError(f"{self.source}: {where}: {problem}")

    def mapping(self, value: Any, where: str, allowed: Tuple[str, ...]) -> Dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "expected a mapping of settings")
        unknown = sorted(set(map(str, value)) - set(allowed))
        if unknown:
            raise self.fail(where, f"unknown setting {unknown[0]!r} (allowed: {', '.join(allowed)})")
        return value

    def integer(self, value: Any, where: str, minimum: Optional[int] = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(where, f"expected a whole number of days, got {value!r}")
        if minimum is not None and value < minimum:
            raise self.fail(where, f"must be {minimum} or more, got {value}")
        return value

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, "expected non-empty text")
        return value

    def flag(self, value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(where, f"expected true or false, got {value!r}")
        return value

    def time(self, value: Any, where: str) -> dt.time:
        try:
            return dt.time.fromisoformat(str(value))
        except ValueError:
            raise self.fail(where, f'expected a time like "20:00", got {value!r}') from None

    def money(self, value: Any, where: str) -> Decimal:
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            raise self.fail(where, f'expected an amount like "25.00", got {value!r}') from None
        if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
            raise self.fail(where, f"expected an amount of 0 or more with at most two decimals, got {value!r}")
        return amount.quantize(Decimal("0.01"))

    def template(self, value: Any, where: str, directory: Path) -> str:
        name = self.text(value, where)
        for suffix in (".txt", ".html"):
            if not (directory / f"{name}{suffix}").is_file():
                raise self.fail(where, f"template {name!r} has no {name}{suffix} in {directory}")
        return name

    def subject(self, value: Any, where: str) -> str:
        subject = self.text(value, where)
        try:
            jinja2.Environment().parse(subject)
        except jinja2.TemplateSyntaxError as exc:
            raise self.fail(where, f"subject is not a valid template: {exc.message}") from None
        return subject


def _stages(read: _Reader, raw: Any, templates: Path) -> Tuple[Stage, ...]:
    if not isinstance(raw, list) or not raw:
        raise read.fail("stages", "expected a list with at least one stage")
    stages = []
    allowed = ("name", "day", "template", "channel", "subject", "adds_fee", "hand_to_person")
    for index, item in enumerate(raw):
        where = f"stages[{index}]"
        item = read.mapping(item, where, allowed)
        for required in ("name", "day", "template", "subject"):
            if required not in item:
                raise read.fail(where, f"missing {required!r}")
        name = read.text(item["name"], f"{where}.name")
        if not _NAME.fullmatch(name):
            raise read.fail(f"{where}.name", f"{name!r} must be lower-case letters, digits or _ (up to 32)")
        channel = item.get("channel", "email")
        if channel not in CHANNELS:
            raise read.fail(f"{where}.channel", f"{channel!r} is not supported (supported: {', '.join(CHANNELS)})")
        stages.append(
            Stage(
                name=name,
                day=read.integer(item["day"], f"{where}.day"),
                template=read.template(item["template"], f"{where}.template", templates),
                subject=read.subject(item["subject"], f"{where}.subject"),
                channel=channel,
                adds_fee=read.flag(item.get("adds_fee", False), f"{where}.adds_fee"),
                hand_to_person=read.flag(item.get("hand_to_person", False), f"{where}.hand_to_person"),
            )
        )
    for index in range(1, len(stages)):
        if stages[index].name in [s.name for s in stages[:index]]:
            raise read.fail(f"stages[{index}].name", f"stage {stages[index].name!r} appears twice")
        if stages[index].day <= stages[index - 1].day:
            raise read.fail(
                f"stages[{index}].day",
                f"day {stages[index].day} must come after "
                f"{stages[index - 1].name!r} (day {stages[index - 1].day}); list stages in order",
            )
    return tuple(stages)


def parse_policy(data: Any, source: str = "<policy>", base: Optional[Path] = None) -> Policy:
    read = _Reader(source)
    data = read.mapping(
        data, "top level", ("stages", "late_fee", "quiet_hours", "retries", "card_expiry", "templates_dir")
    )
    templates = DEFAULT_TEMPLATES
    if "templates_dir" in data:
        templates = (base or Path.cwd()) / read.text(data["templates_dir"], "templates_dir")
        if not templates.is_dir():
            raise read.fail("templates_dir", f"{templates} is not a directory")
    stages = _stages(read, data.get("stages"), templates)
    if any(s.adds_fee for s in stages) and "late_fee" not in data:
        raise read.fail("late_fee", "a stage adds a fee but no late_fee is set")
    late_fee = read.money(data.get("late_fee", "0"), "late_fee")

    quiet = None
    if data.get("quiet_hours") is not None:
        raw = read.mapping(data["quiet_hours"], "quiet_hours", ("start", "end"))
        quiet = QuietHours(
            read.time(raw.get("start"), "quiet_hours.start"), read.time(raw.get("end"), "quiet_hours.end")
        )
        if quiet.start == quiet.end:
            raise read.fail("quiet_hours", "start and end are the same time")

    retries = read.mapping(
        data.get("retries") or {}, "retries", ("soft_decline_days", "update_card_template", "update_card_subject")
    )
    days = retries.get("soft_decline_days", [])
    if not isinstance(days, list):
        raise read.fail("retries.soft_decline_days", "expected a list of days, e.g. [1, 3, 5]")
    days = [read.integer(d, f"retries.soft_decline_days[{i}]", minimum=1) for i, d in enumerate(days)]
    if days != sorted(set(days)):
        raise read.fail("retries.soft_decline_days", "days must be different and in increasing order")

    expiry = read.mapping(data.get("card_expiry") or {}, "card_expiry", ("days_before", "template", "subject"))
    return Policy(
        stages=stages,
        late_fee=late_fee,
        quiet_hours=quiet,
        soft_retry_days=tuple(days),
        update_card_template=read.template(
            retries.get("update_card_template", "update_card"), "retries.update_card_template", templates
        ),
        update_card_subject=read.subject(
            retries.get("update_card_subject", "Please update your card"), "retries.update_card_subject"
        ),
        card_expiry_days=read.integer(expiry.get("days_before", 30), "card_expiry.days_before", minimum=1),
        card_expiry_template=read.template(expiry.get("template", "card_expiry"), "card_expiry.template", templates),
        card_expiry_subject=read.subject(expiry.get("subject", "Your card expires soon"), "card_expiry.subject"),
        templates_dir=templates,
        source=source,
    )
