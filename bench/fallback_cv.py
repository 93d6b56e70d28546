"""Calibrates the FallbackClassifier threshold by k-fold cross-validation on the product's own training data.

The held-out files in tests/heldout are for measuring, not for choosing
settings. This script trains config.yml's NLU pipeline on k-1 folds of
data/nlu (stratified by intent), with the fallback switched off so the
out-of-scope detector sees every message, parses the remaining fold, and
prints what each fallback threshold would do to the held-out folds:
out_of_scope examples caught and in-scope examples rejected.

  .venv/bin/python bench/fallback_cv.py [--folds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path
from typing import Dict, List, Tuple

import yaml
from rasa.core.agent import Agent
from rasa.model_training import train_nlu
from rasa.shared.nlu.constants import INTENT
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.model_selection import StratifiedKFold

from nlu_bench import REJECTED, decide
from nlu_eval import quiet_logging

THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6)


def fallback_off(source: Path, target: Path) -> Tuple[float, float]:
    """config.yml's pipeline with a fallback that never fires; returns its (threshold, ambiguity)."""
    config = yaml.safe_load(source.read_text())
    config.pop("policies", None)
    [fallback] = [c for c in config["pipeline"] if c["name"] == "FallbackClassifier"]
    settings = float(fallback["threshold"]), float(fallback.get("ambiguity_threshold", 0.1))
    fallback["threshold"], fallback["ambiguity_threshold"] = 0.0, 0.0
    target.write_text(yaml.safe_dump(config, sort_keys=False))
    return settings


def final_intent(parse: Dict, threshold: float, ambiguity: float) -> str:
    """What the pipeline would answer at this threshold: fallback first, then the out-of-scope detector."""
    decided = decide(parse, threshold, ambiguity)
    if decided in REJECTED:
        return decided
    return "out_of_scope" if parse.get("out_of_scope") else decided


async def parse_fold(model: str, texts: List[str]) -> List[Dict]:
    agent = Agent.load(model)
    return [await agent.parse_message(text) for text in texts]


def cross_validate(data: TrainingData, config: Path, folds: int) -> Tuple[List[str], List[Dict], float, float]:
    examples = data.intent_examples
    labels = [m.get(INTENT) for m in examples]
    gold: List[str] = []
    parses: List[Dict] = []
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        threshold, ambiguity = fallback_off(config, work / "config.yml")
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=42)
        for number, (train_index, test_index) in enumerate(splitter.split(examples, labels), start=1):
            fold = TrainingData(
                [examples[i] for i in train_index], entity_synonyms=data.entity_synonyms,
                regex_features=data.regex_features, lookup_tables=data.lookup_tables)
            (work / "nlu.yml").write_text(fold.nlu_as_yaml(), encoding="utf-8")
            model = train_nlu(str(work / "config.yml"), str(work / "nlu.yml"), str(work), fixed_model_name=f"fold{number}")
            parses += asyncio.run(parse_fold(model, [examples[i].get("text") for i in test_index]))
            gold += [labels[i] for i in test_index]
            print(f"fold {number} of {folds} done", flush=True)
    return gold, parses, threshold, ambiguity


def print_sweep(gold: List[str], parses: List[Dict], configured: float, ambiguity: float) -> None:
    in_scope = [(g, p) for g, p in zip(gold, parses) if g != "out_of_scope"]
    oos = [p for g, p in zip(gold, parses) if g == "out_of_scope"]
    print(f"{len(in_scope)} in-scope and {len(oos)} out_of_scope training examples, each parsed by a model "
          f"that did not see it (config.yml: threshold {configured}, ambiguity {ambiguity})")
    print("  threshold  OOS caught  in-scope rejected  in-scope accuracy")
    for threshold in sorted(set(THRESHOLDS) | {configured}):
        decided = [final_intent(p, threshold, ambiguity) for _, p in in_scope]
        rejected = sum(d in REJECTED for d in decided) / len(in_scope)
        accuracy = sum(d == g for d, (g, _) in zip(decided, in_scope)) / len(in_scope)
        caught = sum(final_intent(p, threshold, ambiguity) in REJECTED for p in oos) / max(len(oos), 1)
        print(f"  {threshold:>9.2f}  {caught:>10.3f}  {rejected:>17.3f}  {accuracy:>17.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data/nlu")
    parser.add_argument("--config", type=Path, default=Path("config.yml"))
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    quiet_logging()
    gold, parses, threshold, ambiguity = cross_validate(load_data(args.data), args.config, args.folds)
    print_sweep(gold, parses, threshold, ambiguity)


if __name__ == "__main__":
    main()
