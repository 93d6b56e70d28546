"""Real-world NLU figures in one run (issue 12): public wording nobody on the team wrote.

1. Trains the product's model (`rasa train` in a new process, as bench/nlu_bench.py does) and
   times it, unless --model is given.
2. Parses the evaluation side of bench/public_data.py (CLINC150 val + oos_val, the held-out ~20% of
   Banking77; never trained on), mapped to our intents by data/public/mapping.tsv, and prints:
   - in-scope accuracy (out_of_scope / nlu_fallback counted wrong), overall and per source category;
   - out-of-scope caught (out_of_scope or nlu_fallback) overall and per group, and in-scope rejected;
   - the top confusion pairs between our intents;
3. bench/nlu_eval.py's held-out figures (intent accuracy on tests/heldout/nlu.yml), and
   bench/nlu_bench.py's: parse latency p50/p95, held-out out-of-scope, sentiment beside VADER.
4. The issue's targets, each marked met or not.

  .venv/bin/python bench/real_world_bench.py                               # trains first (~1 min)
  .venv/bin/python bench/real_world_bench.py --model models/support.tar.gz  # no training
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, List, Optional

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))
# This checkout's components (bot.nlu), also when the venv's editable install points at another one.
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from rasa.core.agent import Agent  # noqa: E402

import nlu_bench  # noqa: E402
import nlu_eval  # noqa: E402
import public_data  # noqa: E402

REJECTED = nlu_bench.REJECTED
OUT_OF_SCOPE = public_data.OUT_OF_SCOPE


def oos_group(example: public_data.Example) -> str:
    if example.category == "oos":
        return "CLINC150 oos (no intent of theirs)"
    if "other companies' bills" in example.category:
        return "other companies' bills (CLINC150 bill categories)"
    if example.category in public_data.read_mapping_categories("clinc150", OUT_OF_SCOPE):
        return "CLINC150 categories listed one by one (banking, small talk, settings)"
    return "CLINC150 far domains (6 x 15 categories)"


async def parse_public(agent: Agent, examples: List[public_data.Example]):
    return await nlu_eval.parse_all(agent, [e.text for e in examples])


def public_figures(examples: List[public_data.Example], parses: List[Dict]) -> Dict:
    predicted = [p["intent"]["name"] for p in parses]
    in_scope = [(e, p) for e, p in zip(examples, predicted) if e.intent != OUT_OF_SCOPE]
    oos = [(e, p) for e, p in zip(examples, predicted) if e.intent == OUT_OF_SCOPE]
    per_category: Dict[str, List] = defaultdict(list)
    for e, p in in_scope:
        per_category[f"{e.source} {e.category} -> {e.intent}"].append((e, p))
    per_group: Dict[str, List] = defaultdict(list)
    for e, p in oos:
        per_group[oos_group(e)].append(p in REJECTED)
    confusions = Counter((e.intent, p) for e, p in in_scope if p != e.intent and p not in REJECTED)
    return {
        "in_scope": len(in_scope),
        "accuracy": sum(p == e.intent for e, p in in_scope) / len(in_scope),
        "rejected": sum(p in REJECTED for _, p in in_scope) / len(in_scope),
        "rejected_examples": [e.text for e, p in in_scope if p in REJECTED],
        "oos": len(oos),
        "oos_caught": sum(p in REJECTED for _, p in oos) / len(oos),
        "oos_missed_examples": [(e.text, p) for e, p in oos if p not in REJECTED],
        "per_category": {
            name: {
                "n": len(rows),
                "accuracy": sum(p == e.intent for e, p in rows) / len(rows),
                "wrong": Counter(p for e, p in rows if p != e.intent).most_common(2),
            }
            for name, rows in sorted(per_category.items())
        },
        "per_group": {name: (len(flags), sum(flags) / len(flags)) for name, flags in sorted(per_group.items())},
        "confusions": confusions.most_common(12),
    }


def print_public(figures: Dict) -> None:
    print(f"== public wording (CLINC150 val + oos_val, held-out Banking77 part), mapped by data/public/mapping.tsv")
    print(f"in-scope right intent: {figures['accuracy']:.3f} of {figures['in_scope']} "
          f"(rejected as out of scope / fallback: {figures['rejected']:.3f})")
    print("  per source category                                                   n   right  most common wrong")
    for name, row in figures["per_category"].items():
        wrong = ", ".join(f"{p} x{c}" for p, c in row["wrong"])
        print(f"  {name:<70}{row['n']:>4}  {row['accuracy']:.3f}  {wrong}")
    print(f"out-of-scope caught (out_of_scope or nlu_fallback): {figures['oos_caught']:.3f} of {figures['oos']}")
    for name, (n, share) in figures["per_group"].items():
        print(f"  {name:<70}{n:>5}  {share:.3f}")
    print(f"in-scope wrongly rejected: {figures['rejected']:.3f} of {figures['in_scope']}")
    for text in figures["rejected_examples"][:8]:
        print(f"  - {text}")
    print("out-of-scope taken as one of our intents (first 8):")
    for text, predicted in figures["oos_missed_examples"][:8]:
        print(f"  - {text}  -> {predicted}")
    print("top confusions between our intents (gold -> predicted, count):")
    for (gold, predicted), count in figures["confusions"]:
        print(f"  {gold} -> {predicted}: {count}")


def print_targets(public: Dict, heldout_accuracy: float, product: Dict, train_seconds: Optional[float]) -> None:
    sentiment = product["sentiment"]
    rows = [
        ("public in-scope right intent >= 0.90", public["accuracy"], public["accuracy"] >= 0.90),
        ("public out-of-scope caught >= 0.95", public["oos_caught"], public["oos_caught"] >= 0.95),
        ("public in-scope rejected <= 0.05", public["rejected"], public["rejected"] <= 0.05),
        ("own held-out intent accuracy >= 0.97", heldout_accuracy, heldout_accuracy >= 0.97),
        ("sentiment negative-F1 >= VADER + 0.10", sentiment["model"]["negative_f1"],
         sentiment["model"]["negative_f1"] >= sentiment["vader"]["negative_f1"] + 0.10),
        ("parse p50 <= 10 ms", product["latency"]["median_ms"], product["latency"]["median_ms"] <= 10),
    ]
    if train_seconds is not None:
        rows.append(("training <= 120 s", train_seconds, train_seconds <= 120))
    print("== targets (issue 12)")
    for name, value, met in rows:
        print(f"  {'met ' if met else 'MISS'}  {name:<42} {value:.3f}")


async def run(model: str, args: argparse.Namespace) -> tuple:
    examples = public_data.load("eval", args.shared)
    agent = Agent.load(model)
    parses, latencies = await parse_public(agent, examples)
    heldout = nlu_eval.load_examples(args.heldout)
    heldout_parses, heldout_latencies = await nlu_eval.parse_all(agent, [e["text"] for e in heldout])
    heldout_report = nlu_eval.evaluate(heldout, heldout_parses, heldout_latencies)
    product = await nlu_bench.measure(model, args.heldout, args.out_of_scope, args.sentiment)
    public = public_figures(examples, parses)
    public["latency"] = nlu_eval.latency_summary(latencies)
    return public, heldout_report, product


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="measure this trained model instead of training one (no training time)")
    parser.add_argument("--shared", type=Path, default=public_data.SHARED)
    parser.add_argument("--heldout", default="tests/heldout/nlu.yml")
    parser.add_argument("--out-of-scope", default="tests/heldout/out_of_scope.yml")
    parser.add_argument("--sentiment", default="tests/heldout/sentiment.tsv")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if not (args.shared / "clinc150").exists():
        raise SystemExit(f"{args.shared} has no clinc150/: the public evaluation data lives outside the project")
    nlu_eval.quiet_logging()
    with tempfile.TemporaryDirectory() as scratch:
        model, seconds = (args.model, None) if args.model else nlu_bench.train_product(Path(scratch))
        public, heldout, product = asyncio.run(run(model, args))
    print_public(public)
    print(f"parse latency over {public['in_scope'] + public['oos']} public "
          f"messages: p50 {public['latency']['median_ms']:.1f} ms, p95 {public['latency']['p95_ms']:.1f} ms")
    print("== own held-out file (bench/nlu_eval.py figures)")
    accuracy = heldout["intent_with_fallback"]["accuracy"]
    print(f"intent accuracy {accuracy:.3f}, macro-F1 {heldout['intent_with_fallback']['macro_f1']:.3f} "
          f"over {heldout['examples']} messages (nlu_fallback counted wrong)")
    for gold, predicted, count in heldout["top_confusions"][:6]:
        print(f"  {gold} -> {predicted}: {count}")
    print("== bench/nlu_bench.py figures (training time, latency, held-out out-of-scope, sentiment)")
    nlu_bench.print_report(seconds, product)
    print_targets(public, accuracy, product, seconds)


if __name__ == "__main__":
    main()
