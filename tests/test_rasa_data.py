"""Rasa's own checks of the training data and domain, and the test stories."""

import re
import subprocess
import sys

import pytest
import yaml

from bot.config import PROJECT_ROOT, load_settings
from bot.training import MODEL_PATH


def rasa(*args, timeout=900):
    return subprocess.run([sys.executable, "-m", "rasa", *args], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_rasa_data_validate():
    """Valid data and domain; the only warnings allowed are responses that custom
    actions send (the validator cannot see those), and each must really be sent."""
    result = rasa("data", "validate", "--config", "config.yml", "--domain", "domain.yml", "--data", "data")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    topic_intents = load_settings({}).escalation.topic_intents
    forms = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())["forms"]
    # Forms ask for each required slot with utter_ask_<slot> themselves.
    form_questions = {f"utter_ask_{slot}" for form in forms.values() for slot in form["required_slots"]}
    form_questions.add("utter_default")  # sent by Rasa's own action_default_fallback
    # The actions send responses by name; the handoff's per-reason responses are in bot/handoff_reasons.py.
    sources = [*(PROJECT_ROOT / "actions").glob("*.py"), PROJECT_ROOT / "bot" / "handoff_reasons.py"]
    actions_source = "\n".join(p.read_text() for p in sources)
    for line in output.splitlines():
        if "UserWarning" not in line:
            continue
        intent = re.search(r"The intent '(\w+)' is not used in any story or rule", line)
        if intent:
            # Routed to a person by the EscalationPolicy, not by a rule.
            assert intent.group(1) in topic_intents, f"intent {intent.group(1)} is never handled"
            continue
        match = re.search(r"The utterance '(\w+)' is not used in any story or rule", line)
        assert match, f"unexpected validation warning: {line}"
        name = match.group(1)
        assert f'"{name}"' in actions_source or name in form_questions, f"{name} is never sent"


@pytest.mark.model
def test_conversation_stories_pass_with_no_prediction_errors(tmp_path):
    """tests/stories covers every path: verification, each answer, forms, escalations.

    --e2e: a step that gives the customer's words (tests/stories/test_real_wording.yml) is parsed
    by the NLU, and a wrong intent fails the story like a wrong action."""
    assert MODEL_PATH.exists(), "bin/setup trains the model before the tests"
    result = rasa("test", "core", "--e2e", "--model", str(MODEL_PATH), "--stories", "tests/stories",
                  "--fail-on-prediction-errors", "--out", str(tmp_path / "results"))
    failed = (tmp_path / "results" / "failed_test_stories.yml")
    details = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, details[-6000:] + result.stdout[-3000:] + result.stderr[-3000:]


@pytest.mark.model
def test_a_wrong_intent_in_a_worded_story_fails_the_story_test(tmp_path):
    """The check above really reads the customer's words: a story that expects the wrong intent fails."""
    stories = tmp_path / "stories"
    stories.mkdir()
    (stories / "test_wrong_intent.yml").write_text(
        'version: "3.1"\nstories:\n- story: hello is not goodbye\n  steps:\n'
        "  - user: |\n      hello there\n    intent: goodbye\n  - action: utter_goodbye\n")
    result = rasa("test", "core", "--e2e", "--model", str(MODEL_PATH), "--stories", str(stories),
                  "--fail-on-prediction-errors", "--out", str(tmp_path / "results"))
    assert result.returncode != 0
    assert "predicted: greet" in result.stdout + result.stderr


def test_responses_said_by_rules_only_use_slots():
    """A rule or story that says a response itself can fill it only from slots; any other
    {placeholder} would reach the customer literally (it did: "{card_link}"), so such a
    response must be sent by a custom action that passes the value."""
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
    slots = set(domain.get("slots", {}))
    said_directly = set()
    for path in (PROJECT_ROOT / "data").rglob("*.yml"):
        content = yaml.safe_load(path.read_text()) or {}
        for flow in [*content.get("rules", []), *content.get("stories", [])]:
            said_directly |= {step["action"] for step in flow.get("steps", []) if str(step.get("action", "")).startswith("utter_")}
    assert "utter_greet" in said_directly  # the scan sees the rules at all
    unfilled = {
        name: sorted(set(re.findall(r"\{(\w+)\}", variant.get("text", ""))) - slots)
        for name in said_directly
        for variant in domain["responses"].get(name, [])
    }
    assert {name: names for name, names in unfilled.items() if names} == {}
