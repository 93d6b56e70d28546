"""The policy file: the shipped default, the setting that overrides it, and clear errors."""

import copy
import datetime as dt
from decimal import Decimal

import pytest
import yaml

from bot.config import load_settings
from bot.demo import seed
from bot.dunning.policy import DEFAULT_POLICY, PolicyError, load_policy, parse_policy, policy_for


def default_data():
    return yaml.safe_load(DEFAULT_POLICY.read_text())


def test_the_default_policy_is_the_source_of_the_seeds_history():
    policy = load_policy()
    assert [(s.name, s.day) for s in policy.stages] == list(seed.STAGE_DAYS)
    assert policy.late_fee == seed.LATE_FEE
    assert [s.name for s in policy.stages if s.adds_fee] == ["final"]
    assert [s.name for s in policy.stages if s.hand_to_person] == ["collections"]
    assert policy.quiet_hours.contains(dt.time(22)) and policy.quiet_hours.contains(dt.time(7, 59))
    assert not policy.quiet_hours.contains(dt.time(8)) and not policy.quiet_hours.contains(dt.time(19, 59))
    assert policy.soft_retry_days == (1, 3, 5, 7)
    assert policy.card_expiry_days == 30


def test_the_setting_points_at_another_policy(tmp_path):
    data = default_data()
    data["stages"] = data["stages"][1:3]
    data["stages"][0]["day"] = 7
    path = tmp_path / "policy.yml"
    path.write_text(yaml.safe_dump(data))
    policy = policy_for(load_settings({"BOT_DUNNING_POLICY": str(path)}))
    assert [(s.name, s.day) for s in policy.stages] == [("friendly", 7), ("firm", 30)]
    assert policy.source == str(path)


def broken(change):
    data = copy.deepcopy(default_data())
    change(data)
    return data


@pytest.mark.parametrize("change, message", [
    (lambda d: d["stages"][2].update(day=2), r"stages\[2\]\.day: day 2 must come after 'friendly' \(day 3\)"),
    (lambda d: d["stages"][1].update(name="upcoming", day=-1), r"stages\[1\]\.name: stage 'upcoming' appears twice"),
    (lambda d: d["stages"][0].update(dayz=3), r"stages\[0\]: unknown setting 'dayz'"),
    (lambda d: d["stages"][0].update(channel="sms"), r"stages\[0\]\.channel: 'sms' is not supported"),
    (lambda d: d["stages"][1].update(template="nowhere"), r"stages\[1\]\.template: template 'nowhere' has no nowhere\.txt"),
    (lambda d: d["stages"][1].update(day="three"), r"stages\[1\]\.day: expected a whole number of days, got 'three'"),
    (lambda d: d["stages"][1].pop("subject"), r"stages\[1\]: missing 'subject'"),
    (lambda d: d["stages"][1].update(subject="Invoice {{ invoice.number"), r"stages\[1\]\.subject: subject is not a valid template"),
    (lambda d: d["stages"][3].update(adds_fee="yes"), r"stages\[3\]\.adds_fee: expected true or false"),
    (lambda d: d.update(stages=[]), r"stages: expected a list with at least one stage"),
    (lambda d: d.update(late_fee="-5"), r"late_fee: expected an amount of 0 or more"),
    (lambda d: d.update(late_fee="2.555"), r"late_fee: expected an amount of 0 or more with at most two decimals"),
    (lambda d: d.pop("late_fee"), r"late_fee: a stage adds a fee but no late_fee is set"),
    (lambda d: d["quiet_hours"].update(start="25:00"), r"quiet_hours\.start: expected a time"),
    (lambda d: d["retries"].update(soft_decline_days=[3, 1]), r"retries\.soft_decline_days: days must be different and in increasing order"),
    (lambda d: d["retries"].update(soft_decline_days=[0]), r"retries\.soft_decline_days\[0\]: must be 1 or more"),
    (lambda d: d["card_expiry"].update(days_before=0), r"card_expiry\.days_before: must be 1 or more"),
    (lambda d: d.update(escalate=True), r"top level: unknown setting 'escalate'"),
])
def test_a_bad_policy_is_refused_with_the_place_of_the_mistake(change, message):
    with pytest.raises(PolicyError, match=message):
        parse_policy(broken(change), source="policy.yml")


def test_a_missing_or_unreadable_file_is_a_clear_error(tmp_path):
    with pytest.raises(PolicyError, match="cannot read the dunning policy .*nope.yml"):
        load_policy(tmp_path / "nope.yml")
    (tmp_path / "bad.yml").write_text("stages: [\n")
    with pytest.raises(PolicyError, match="bad.yml is not valid YAML"):
        load_policy(tmp_path / "bad.yml")


def test_templates_can_live_beside_a_custom_policy(tmp_path):
    (tmp_path / "letters").mkdir()
    for suffix in ("txt", "html"):
        (tmp_path / "letters" / f"nudge.{suffix}").write_text("Hi {{ customer.first_name }}")
    data = broken(lambda d: d.update(templates_dir="letters", stages=[
        {"name": "nudge", "day": 1, "template": "nudge", "subject": "Hi"}], retries={}, card_expiry={}))
    data["retries"] = {"update_card_template": "nudge"}
    data["card_expiry"] = {"template": "nudge"}
    policy = parse_policy(data, source="custom.yml", base=tmp_path)
    assert policy.templates_dir == tmp_path / "letters" and policy.late_fee == Decimal("25.00")
