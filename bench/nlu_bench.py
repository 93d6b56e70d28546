"""Every NLU figure in one run (issue 6): Banking77, training, latency, out-of-scope, sentiment.

1. Banking77 k-fold cross-validation of config.yml's pipeline (bench/banking77_cv.py).
2. Trains the product's own model (NLU and dialogue, `rasa train` in a new process)
   into a scratch directory and times it.
3. With that model: parse latency p50/p95 over the held-out messages, the share
   of held-out out-of-scope messages caught (out_of_scope or nlu_fallback) and of
   in-scope messages wrongly rejected, and the sentiment component beside VADER.

  .venv/bin/python bench/nlu_bench.py            # about 15 minutes on two cores
  .venv/bin/python bench/nlu_bench.py --folds 0  # skip Banking77
  .venv/bin/python bench/nlu_bench.py --folds 0 --model models/support.tar.gz  # no training
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

import yaml  # noqa: E402
from rasa.core.agent import Agent  # noqa: E402
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # noqa: E402

import banking77_cv  # noqa: E402
import sentiment_vs_vader  # noqa: E402
from nlu_eval import latency_summary, load_examples, parse_all, quiet_logging  # noqa: E402

REJECTED = {"out_of_scope", "nlu_fallback"}


def fallback_setting(name: str) -> float:
    pipeline = yaml.safe_load(Path("config.yml").read_text())["pipeline"]
    [fallback] = [c for c in pipeline if c["name"] == "FallbackClassifier"]
    return float(fallback[name])


def train_product(scratch: Path) -> tuple:
    """`rasa train` in a new process, as `bot train` runs it: nothing warm from the folds above."""
    command = [sys.executable, "-m", "rasa", "train", "--domain", "domain.yml", "--config", "config.yml",
               "--data", "data", "--out", str(scratch), "--fixed-model-name", "bench", "--force", "--quiet"]
    started = time.perf_counter()
    result = subprocess.run(command, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    model = scratch / "bench.tar.gz"
    if result.returncode != 0 or not model.exists():
        raise SystemExit(f"training failed (exit code {result.returncode})")
    return str(model), seconds


def out_of_scope_figures(in_scope: List[Dict], in_parses: List[Dict], oos_parses: List[Dict]) -> Dict:
    caught = sum(p["intent"]["name"] in REJECTED for p in oos_parses)
    rejected = [e["text"] for e, p in zip(in_scope, in_parses) if p["intent"]["name"] in REJECTED]
    return {
        "oos_messages": len(oos_parses),
        "oos_caught": caught / len(oos_parses),
        "oos_caught_as_intent": sum(p["intent"]["name"] == "out_of_scope" for p in oos_parses) / len(oos_parses),
        "in_scope_messages": len(in_scope),
        "in_scope_rejected": len(rejected) / len(in_scope),
        "rejected_examples": rejected,
    }


def decide(parse: Dict, threshold: float, ambiguity: float) -> str:
    """The intent the FallbackClassifier would leave at this threshold (from the classifier's ranking)."""
    ranking = [r for r in parse.get("intent_ranking") or [] if r["name"] != "nlu_fallback"]
    if not ranking:
        return "nlu_fallback"
    top = ranking[0]
    second = ranking[1]["confidence"] if len(ranking) > 1 else 0.0
    if top["confidence"] < threshold or top["confidence"] - second < ambiguity:
        return "nlu_fallback"
    return top["name"]


def threshold_sweep(in_scope: List[Dict], in_parses: List[Dict], oos_parses: List[Dict], ambiguity: float) -> List:
    """(threshold, OOS caught, in-scope rejected, in-scope accuracy) for a range of fallback thresholds."""
    rows = []
    for threshold in (0.2, 0.3, 0.4, 0.45, 0.5, 0.6, 0.7):
        in_pred = [decide(p, threshold, ambiguity) for p in in_parses]
        caught = sum(decide(p, threshold, ambiguity) in REJECTED for p in oos_parses) / len(oos_parses)
        rejected = sum(p in REJECTED for p in in_pred) / len(in_pred)
        accuracy = sum(p == e["intent"] for p, e in zip(in_pred, in_scope)) / len(in_pred)
        rows.append((threshold, caught, rejected, accuracy))
    return rows


async def measure(model: str, heldout: str, oos_file: str, sentiment_file: str) -> Dict:
    agent = Agent.load(model)
    examples = load_examples(heldout)
    in_scope = [e for e in examples if e["intent"] != "out_of_scope"]
    oos = [e for e in examples if e["intent"] == "out_of_scope"] + load_examples(oos_file)
    in_parses, in_latency = await parse_all(agent, [e["text"] for e in in_scope])
    oos_parses, oos_latency = await parse_all(agent, [e["text"] for e in oos])
    rows = sentiment_vs_vader.load_rows(sentiment_file)
    gold, texts = [label for label, _ in rows], [text for _, text in rows]
    analyzer = SentimentIntensityAnalyzer()
    return {
        "latency": latency_summary(in_latency + oos_latency),
        "parsed": len(in_latency) + len(oos_latency),
        "out_of_scope": out_of_scope_figures(in_scope, in_parses, oos_parses),
        "in_scope_accuracy": sum(p["intent"]["name"] == e["intent"] for p, e in zip(in_parses, in_scope)) / len(in_scope),
        "sweep": threshold_sweep(in_scope, in_parses, oos_parses, fallback_setting("ambiguity_threshold")),
        "sentiment": {
            "messages": len(rows),
            "model": sentiment_vs_vader.scores(gold, await sentiment_vs_vader.model_labels(agent, texts)),
            "vader": sentiment_vs_vader.scores(gold, [sentiment_vs_vader.vader_label(analyzer, t) for t in texts]),
        },
    }


def print_report(train_seconds: Optional[float], figures: Dict) -> None:
    if train_seconds is not None:
        print(f"product model (rasa train, NLU + dialogue): {train_seconds:.0f} s")
    latency = figures["latency"]
    print(f"parse latency over {figures['parsed']} held-out messages: "
          f"p50 {latency['median_ms']:.1f} ms, p95 {latency['p95_ms']:.1f} ms")
    oos = figures["out_of_scope"]
    print(f"out-of-scope caught: {oos['oos_caught']:.3f} of {oos['oos_messages']} "
          f"({oos['oos_caught_as_intent']:.3f} as out_of_scope, the rest by the fallback)")
    print(f"in-scope wrongly rejected: {oos['in_scope_rejected']:.3f} of {oos['in_scope_messages']}")
    for text in oos["rejected_examples"][:10]:
        print(f"  - {text}")
    print(f"in-scope intent accuracy (held-out, fallback counted wrong): {figures['in_scope_accuracy']:.3f}")
    print(f"FallbackClassifier threshold sweep, from the intent classifier's ranking alone (config.yml has "
          f"{fallback_setting('threshold')}; OutOfScopeDetector not included):")
    print("  threshold  OOS caught  in-scope rejected  in-scope accuracy")
    for threshold, caught, rejected, accuracy in figures["sweep"]:
        print(f"  {threshold:>9.2f}  {caught:>10.3f}  {rejected:>17.3f}  {accuracy:>17.3f}")
    sentiment = figures["sentiment"]
    print(f"sentiment on {sentiment['messages']} held-out messages:   neg F1  macro-F1")
    for name in ("model", "vader"):
        s = sentiment[name]
        print(f"  {name:<8}{'':>28}{s['negative_f1']:.3f}  {s['macro_f1']:.3f}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5, help="Banking77 folds; 0 skips it")
    parser.add_argument("--banking77", type=Path, default=banking77_cv.DEFAULT_DATA)
    parser.add_argument("--model", help="measure this trained model instead of training one (no training time)")
    parser.add_argument("--heldout", default="tests/heldout/nlu.yml")
    parser.add_argument("--out-of-scope", default="tests/heldout/out_of_scope.yml")
    parser.add_argument("--sentiment", default="tests/heldout/sentiment.tsv")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    quiet_logging()
    if args.folds:
        report = banking77_cv.cross_validate(banking77_cv.read_rows(args.banking77), Path("config.yml"), args.folds, 0)
        banking77_cv.print_report(report)
    with tempfile.TemporaryDirectory() as scratch:
        model, seconds = (args.model, None) if args.model else train_product(Path(scratch))
        figures = asyncio.run(measure(model, args.heldout, args.out_of_scope, args.sentiment))
    print_report(seconds, figures)


if __name__ == "__main__":
    main()
