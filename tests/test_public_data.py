"""The public data in the loop (issue 12): the reviewed mapping, Northwind's own bills against other
companies', and training never meeting evaluation."""

from __future__ import annotations

import sys
from collections import Counter

import pytest
import yaml
from rasa.shared.nlu.training_data.loading import load_data

from bot.config import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "bench"))
import public_data  # noqa: E402

DOMAIN_INTENTS = set(yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())["intents"])
PUBLIC_FILES = sorted((PROJECT_ROOT / "data" / "nlu" / "public").glob("*.yml"))
needs_shared = pytest.mark.skipif(not (public_data.SHARED / "clinc150").exists(),
                                  reason=f"the public data is not in {public_data.SHARED} (outside the project)")


def test_every_mapping_names_one_of_our_intents_with_a_reason():
    rows = public_data.read_mapping()
    assert rows
    for source, category, intent, reason in rows:
        assert source in ("clinc150", "banking77")
        assert intent in DOMAIN_INTENTS, (category, intent)
        assert len(reason.split()) >= 3, (category, reason)
    duplicates = [key for key, n in Counter((s, c) for s, c, _, _ in rows).items() if n > 1]
    assert duplicates == []


@pytest.mark.parametrize("text, kind", [
    ("how much is my electricity bill", "own"),
    ("when is the gas bill due", "own"),
    ("i want to pay my utility bill", "own"),
    ("how much do i owe on my bills", "own"),
    ("how much is my water bill", "other"),
    ("pay my cable bill from my checking account", "other"),
    ("when is my rent due", "other"),
    ("when is my visa bill due", "other"),
    ("what's my bill for water and electricity", None),  # both: ambiguous, not used
])
def test_own_bills_against_other_companies_bills(text, kind):
    assert public_data.bill_kind(text) == kind


def test_the_banking77_split_is_fixed_and_about_one_in_five():
    texts = [f"message number {i}" for i in range(2000)]
    parts = [public_data.banking77_part(t) for t in texts]
    assert parts == [public_data.banking77_part(t) for t in texts]
    assert 0.17 < parts.count("eval") / len(parts) < 0.23


def test_the_committed_public_examples_say_where_they_come_from():
    assert [p.name for p in PUBLIC_FILES] == ["banking77.yml", "clinc150.yml"]
    for path in PUBLIC_FILES:
        text = path.read_text()
        assert "Licence: CC BY" in text and "data/public/LICENSE-" in text
        for message in load_data(str(path)).intent_examples:
            assert message.get("metadata")["intent"]["source"].startswith(path.stem)
    for name in ("mapping.tsv", "SOURCE.txt", "LICENSE-CLINC150.txt", "LICENSE-BANKING77.txt"):
        assert (PROJECT_ROOT / "data" / "public" / name).exists()


def test_public_examples_stay_fewer_than_our_own_for_every_intent():
    public = Counter(m.get("intent") for p in PUBLIC_FILES for m in load_data(str(p)).intent_examples)
    own = Counter()
    for path in (PROJECT_ROOT / "data" / "nlu").glob("*.yml"):
        own.update(m.get("intent") for m in load_data(str(path)).intent_examples)
    for intent, count in public.items():
        if intent != "out_of_scope":
            assert count <= public_data.IN_SCOPE_CAP
        assert count <= own[intent], (intent, count, own[intent])


# Our own examples that happen to equal a public evaluation text: short, common wordings written
# before the public data came in. Any other overlap would flatter the bench.
KNOWN_OWN_OVERLAP = {"hi", "hello", "hey", "hiya", "farewell", "absolutely not", "are you a robot",
                     "how many ounces in a cup", "where is the nearest gas station"}


@needs_shared
def test_nothing_evaluated_on_is_trained_on():
    evaluation = {e.text.lower() for e in public_data.load("eval")}
    public = {m.get("text").lower() for p in PUBLIC_FILES for m in load_data(str(p)).intent_examples}
    assert public & evaluation == set()
    own = set()
    for path in (PROJECT_ROOT / "data" / "nlu").glob("*.yml"):
        own |= {m.get("text").lower() for m in load_data(str(path)).intent_examples}
    assert own & evaluation <= KNOWN_OWN_OVERLAP


@needs_shared
def test_the_committed_files_are_what_build_makes(tmp_path):
    public_data.build(out_dir=tmp_path)
    for path in PUBLIC_FILES:
        assert (tmp_path / path.name).read_text() == path.read_text(), f"rerun bench/public_data.py build ({path.name})"
