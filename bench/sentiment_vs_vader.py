"""Held-out sentiment benchmark: the model's sentiment component against VADER.

Headline: negative-vs-rest precision/recall/F1 (telling negative customer
messages from the rest); also 3-class macro-F1 and accuracy.
Run from the repository root:  .venv/bin/python bench/sentiment_vs_vader.py
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import logging
import os
from typing import Dict, List, Tuple

# Keep the output readable: set before rasa (and TensorFlow) are imported.
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
os.environ["SQLALCHEMY_SILENCE_UBER_WARNING"] = "1"
# Library deprecation notices go to a silent logger (a filter alone is not enough:
# sanic re-enables DeprecationWarning when rasa imports it).
logging.captureWarnings(True)
logging.getLogger("py.warnings").setLevel(logging.ERROR)

from rasa.core.agent import Agent  # noqa: E402
from rasa.utils.log_utils import configure_structlog  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support  # noqa: E402
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # noqa: E402

LABELS = ["negative", "neutral", "positive"]
MAX_EXAMPLES = 8


def quiet_logging() -> None:
    """Rasa's stdlib loggers and its structlog events (e.g. per-parse debug lines) at WARNING."""
    logging.basicConfig(level=logging.WARNING)
    for name in ("rasa", "tensorflow", "absl", "bot"):
        logging.getLogger(name).setLevel(logging.WARNING)
    configure_structlog(logging.WARNING)


def load_rows(path: str) -> List[Tuple[str, str]]:
    """(label, text) rows of a `label<TAB>text` TSV with a header line."""
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        rows = [(row["label"].strip(), row["text"].strip()) for row in reader if (row["text"] or "").strip()]
    unknown = {label for label, _ in rows} - set(LABELS)
    if unknown:
        raise ValueError(f"{path}: unknown labels {sorted(unknown)}")
    return rows


async def model_labels(agent: Agent, texts: List[str]) -> List[str]:
    return [(await agent.parse_message(text))["sentiment"]["label"] for text in texts]


def vader_label(analyzer: SentimentIntensityAnalyzer, text: str) -> str:
    compound = analyzer.polarity_scores(text)["compound"]
    if compound <= -0.05:
        return "negative"
    if compound >= 0.05:
        return "positive"
    return "neutral"


def scores(gold: List[str], predicted: List[str]) -> Dict[str, float]:
    """Negative-vs-rest P/R/F1, 3-class macro-F1 (over the three labels) and accuracy."""
    precision, recall, f1, _ = precision_recall_fscore_support(
        [g == "negative" for g in gold], [p == "negative" for p in predicted],
        average="binary", pos_label=True, zero_division=0,
    )
    return {
        "negative_precision": precision,
        "negative_recall": recall,
        "negative_f1": f1,
        "macro_f1": f1_score(gold, predicted, labels=LABELS, average="macro", zero_division=0),
        "accuracy": accuracy_score(gold, predicted),
    }


def negatives_only_one_gets(gold, texts, right, wrong) -> List[str]:
    """Held-out negative messages that `right` labels negative and `wrong` does not."""
    return [t for g, t, r, w in zip(gold, texts, right, wrong)
            if g == "negative" and r == "negative" and w != "negative"]


def print_report(report: Dict) -> None:
    print(f"messages: {report['messages']}")
    print(f"{'':<8}{'neg P':>8}{'neg R':>8}{'neg F1':>8}{'macroF1':>9}{'acc':>7}")
    for name in ("model", "vader"):
        s = report[name]
        print(f"{name:<8}{s['negative_precision']:>8.3f}{s['negative_recall']:>8.3f}{s['negative_f1']:>8.3f}"
              f"{s['macro_f1']:>9.3f}{s['accuracy']:>7.3f}")
    for key, title in (("model_only", "negatives the model gets and VADER misses"),
                       ("vader_only", "negatives VADER gets and the model misses")):
        texts = report[key]
        print(f"{title} ({len(texts)}, showing up to {MAX_EXAMPLES}):")
        for text in texts[:MAX_EXAMPLES]:
            print(f"  - {text}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/support.tar.gz")
    parser.add_argument("--data", default="tests/heldout/sentiment.tsv")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    quiet_logging()
    rows = load_rows(args.data)
    gold, texts = [label for label, _ in rows], [text for _, text in rows]
    model = asyncio.run(model_labels(Agent.load(args.model), texts))
    analyzer = SentimentIntensityAnalyzer()
    vader = [vader_label(analyzer, text) for text in texts]
    report = {
        "messages": len(rows),
        "model": scores(gold, model),
        "vader": scores(gold, vader),
        "model_only": negatives_only_one_gets(gold, texts, model, vader),
        "vader_only": negatives_only_one_gets(gold, texts, vader, model),
    }
    print_report(report)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=2)


if __name__ == "__main__":
    main()
