"""Banking77 k-fold cross-validation of the project's NLU pipeline.

Trains config.yml's pipeline (policies left out) on k-1 folds of
../shared/data/banking77/train.csv, parses the held-out fold with Rasa's
Agent, and prints accuracy and macro-F1 over all folds, with the training
time of each fold. The product never trains on Banking77; it is the public
yardstick for intent classification (77 crowd-written banking intents).

  .venv/bin/python bench/banking77_cv.py [--folds 5] [--only-folds 1]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

import yaml  # noqa: E402
from rasa.core.agent import Agent  # noqa: E402
from rasa.model_training import train_nlu  # noqa: E402
from rasa.shared.nlu.training_data.message import Message  # noqa: E402
from rasa.shared.nlu.training_data.training_data import TrainingData  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from nlu_eval import intent_scores, quiet_logging, top_non_fallback  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "banking77" / "train.csv"


def read_rows(path: Path) -> List[Tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [(row["text"].strip(), row["category"]) for row in csv.DictReader(handle)]


def write_nlu(rows: List[Tuple[str, str]], path: Path) -> None:
    data = TrainingData([Message(data={"text": text, "intent": intent}) for text, intent in rows])
    path.write_text(data.nlu_as_yaml(), encoding="utf-8")


def write_pipeline_config(source: Path, target: Path) -> None:
    """config.yml without its policies: only the NLU pipeline is trained."""
    config = yaml.safe_load(source.read_text())
    config.pop("policies", None)
    target.write_text(yaml.safe_dump(config, sort_keys=False))


async def predict(model: str, texts: List[str]) -> Tuple[List[str], List[str]]:
    """(final intent, top non-fallback intent) for every text."""
    agent = Agent.load(model)
    final, top = [], []
    for text in texts:
        parse = await agent.parse_message(text)
        final.append(parse["intent"]["name"])
        top.append(top_non_fallback(parse))
    return final, top


def cross_validate(rows: List[Tuple[str, str]], config: Path, folds: int, only: int) -> Dict:
    texts = [text for text, _ in rows]
    labels = [label for _, label in rows]
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=42)
    gold: List[str] = []
    final: List[str] = []
    top: List[str] = []
    train_seconds: List[float] = []
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        write_pipeline_config(config, work / "config.yml")
        for number, (train_index, test_index) in enumerate(splitter.split(texts, labels), start=1):
            if only and number > only:
                break
            write_nlu([rows[i] for i in train_index], work / "nlu.yml")
            started = time.perf_counter()
            model = train_nlu(str(work / "config.yml"), str(work / "nlu.yml"), str(work), fixed_model_name=f"fold{number}")
            train_seconds.append(time.perf_counter() - started)
            fold_final, fold_top = asyncio.run(predict(model, [texts[i] for i in test_index]))
            fold_gold = [labels[i] for i in test_index]
            fold_score = intent_scores(fold_gold, fold_top)
            print(f"fold {number}: accuracy {fold_score['accuracy']:.4f}, trained in {train_seconds[-1]:.0f} s", flush=True)
            gold += fold_gold
            final += fold_final
            top += fold_top
    return {
        "folds": len(train_seconds),
        "examples": len(gold),
        "top_intent": intent_scores(gold, top),
        "with_fallback": intent_scores(gold, final),
        "fallback_share": final.count("nlu_fallback") / len(final),
        "train_seconds": train_seconds,
    }


def print_report(report: Dict) -> None:
    seconds = report["train_seconds"]
    print(f"Banking77 {report['folds']}-fold cross-validation ({report['examples']} held-out predictions)")
    print(f"  accuracy {report['top_intent']['accuracy']:.4f}  macro-F1 {report['top_intent']['macro_f1']:.4f}"
          "  (the classifier's top intent)")
    print(f"  accuracy {report['with_fallback']['accuracy']:.4f}  macro-F1 {report['with_fallback']['macro_f1']:.4f}"
          f"  (nlu_fallback counted wrong; {report['fallback_share']:.3f} of messages fell back)")
    print(f"  training per fold: mean {sum(seconds) / len(seconds):.0f} s, max {max(seconds):.0f} s")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--config", type=Path, default=Path("config.yml"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--only-folds", type=int, default=0, help="stop after this many folds (quick checks)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    quiet_logging()
    report = cross_validate(read_rows(args.data), args.config, args.folds, args.only_folds)
    print_report(report)


if __name__ == "__main__":
    main()
