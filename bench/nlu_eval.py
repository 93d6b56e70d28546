"""Held-out NLU benchmark: intents, entities, sentiment counts and parse latency.

Loads the trained model once with Rasa's Agent, parses every example of the
held-out NLU file and prints the figures (see bench/README.md).
Run from the repository root:  .venv/bin/python bench/nlu_eval.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import time
from collections import Counter
from typing import Dict, List, Optional, Tuple

# Keep the output readable: set before rasa (and TensorFlow) are imported.
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
os.environ["SQLALCHEMY_SILENCE_UBER_WARNING"] = "1"
# Library deprecation notices go to a silent logger (a filter alone is not enough:
# sanic re-enables DeprecationWarning when rasa imports it).
logging.captureWarnings(True)
logging.getLogger("py.warnings").setLevel(logging.ERROR)

from rasa.core.agent import Agent  # noqa: E402
from rasa.shared.nlu.training_data.loading import load_data  # noqa: E402
from rasa.utils.log_utils import configure_structlog  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score  # noqa: E402

FALLBACK = "nlu_fallback"
Span = Tuple[str, int, int]  # (entity label, start, end)


def quiet_logging() -> None:
    """Rasa's stdlib loggers and its structlog events (e.g. per-parse debug lines) at WARNING."""
    logging.basicConfig(level=logging.WARNING)
    for name in ("rasa", "tensorflow", "absl", "bot"):
        logging.getLogger(name).setLevel(logging.WARNING)
    configure_structlog(logging.WARNING)


def load_examples(path: str) -> List[Dict]:
    """(text, gold intent, gold entity spans) for every intent example, via Rasa's reader."""
    data = load_data(path)
    return [
        {
            "text": message.get("text"),
            "intent": message.get("intent"),
            "entities": [(e["entity"], e["start"], e["end"]) for e in message.get("entities") or []],
        }
        for message in data.intent_examples
    ]


async def parse_all(agent: Agent, texts: List[str]) -> Tuple[List[Dict], List[float]]:
    """Parse results and per-message latency in ms (one warm-up parse is not timed)."""
    await agent.parse_message("hello")
    results, latencies = [], []
    for text in texts:
        started = time.perf_counter()
        results.append(await agent.parse_message(text))
        latencies.append((time.perf_counter() - started) * 1000)
    return results, latencies


def top_non_fallback(parse: Dict) -> Optional[str]:
    for candidate in parse.get("intent_ranking") or []:
        if candidate.get("name") != FALLBACK:
            return candidate.get("name")
    return None


def intent_scores(gold: List[str], predicted: List[Optional[str]]) -> Dict[str, float]:
    """Accuracy and macro-F1 over the gold intents (a wrong or fallback prediction lowers recall)."""
    predicted = [p or "<none>" for p in predicted]
    labels = sorted(set(gold))
    return {
        "accuracy": accuracy_score(gold, predicted),
        "macro_f1": f1_score(gold, predicted, labels=labels, average="macro", zero_division=0),
    }


def prf(tp: int, n_pred: int, n_gold: int) -> Dict[str, float]:
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "predicted": n_pred, "gold": n_gold}


def entity_scores(gold: List[List[Span]], predicted: List[List[Span]]) -> Dict[str, Dict]:
    """Exact-match (label, start, end) precision/recall/F1, overall and per entity label."""
    tp, n_pred, n_gold = Counter(), Counter(), Counter()
    for gold_spans, pred_spans in zip(gold, predicted):
        gold_c, pred_c = Counter(gold_spans), Counter(pred_spans)
        for span, count in (gold_c & pred_c).items():
            tp[span[0]] += count
        for span, count in pred_c.items():
            n_pred[span[0]] += count
        for span, count in gold_c.items():
            n_gold[span[0]] += count
    per_label = {label: prf(tp[label], n_pred[label], n_gold[label]) for label in sorted(n_pred | n_gold)}
    overall = prf(sum(tp.values()), sum(n_pred.values()), sum(n_gold.values()))
    return {"overall": overall, "per_label": per_label}


def predicted_spans(parse: Dict) -> List[Span]:
    return [(e["entity"], e["start"], e["end"]) for e in parse.get("entities") or []]


def top_confusions(gold: List[str], predicted: List[str], n: int = 15) -> List[Tuple[str, str, int]]:
    pairs = Counter((g, p) for g, p in zip(gold, predicted) if g != p)
    return [(g, p, count) for (g, p), count in pairs.most_common(n)]


def latency_summary(latencies: List[float]) -> Dict[str, float]:
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {"median_ms": statistics.median(ordered), "p95_ms": p95}


def evaluate(examples: List[Dict], parses: List[Dict], latencies: List[float]) -> Dict:
    gold = [e["intent"] for e in examples]
    predicted = [p["intent"]["name"] for p in parses]
    return {
        "examples": len(examples),
        "intent_with_fallback": intent_scores(gold, predicted),
        "intent_top_non_fallback": intent_scores(gold, [top_non_fallback(p) for p in parses]),
        "fallback_share": predicted.count(FALLBACK) / len(predicted),
        "entities": entity_scores([e["entities"] for e in examples], [predicted_spans(p) for p in parses]),
        "sentiment_counts": dict(Counter((p.get("sentiment") or {}).get("label", "<missing>") for p in parses)),
        "latency": latency_summary(latencies),
        "top_confusions": top_confusions(gold, predicted),
    }


def print_report(r: Dict) -> None:
    print(f"examples: {r['examples']}")
    for key, title in (("intent_with_fallback", "intent (fallback counted as prediction)"),
                       ("intent_top_non_fallback", "intent (top non-fallback from intent_ranking)")):
        print(f"{title}: accuracy {r[key]['accuracy']:.3f}  macro-F1 {r[key]['macro_f1']:.3f}")
    print(f"share sent to {FALLBACK}: {r['fallback_share']:.3f}")
    print("entities (exact label+start+end):")
    rows = [("ALL", r["entities"]["overall"])] + list(r["entities"]["per_label"].items())
    print(f"  {'label':<16}{'P':>7}{'R':>7}{'F1':>7}{'tp':>6}{'pred':>6}{'gold':>6}")
    for label, s in rows:
        print(f"  {label:<16}{s['precision']:>7.3f}{s['recall']:>7.3f}{s['f1']:>7.3f}"
              f"{s['tp']:>6}{s['predicted']:>6}{s['gold']:>6}")
    print("sentiment labels on held-out NLU messages: "
          + ", ".join(f"{k} {v}" for k, v in sorted(r["sentiment_counts"].items())))
    print(f"parse latency: median {r['latency']['median_ms']:.1f} ms, p95 {r['latency']['p95_ms']:.1f} ms")
    print("top intent confusions (gold -> predicted, count):")
    for gold, pred, count in r["top_confusions"]:
        print(f"  {gold} -> {pred}: {count}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/support.tar.gz")
    parser.add_argument("--data", default="tests/heldout/nlu.yml")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    quiet_logging()
    examples = load_examples(args.data)
    agent = Agent.load(args.model)
    parses, latencies = asyncio.run(parse_all(agent, [e["text"] for e in examples]))
    report = evaluate(examples, parses, latencies)
    print_report(report)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=2)


if __name__ == "__main__":
    main()
