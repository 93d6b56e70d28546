"""Public labelled data mapped to our intents (issue 12): CLINC150 and Banking77.

`data/public/mapping.tsv` says which public category means which of our intents (one reason per
line); categories it does not list are never used. Bill categories keep Northwind Energy's own bills
only: an example that names another kind of bill (rent, water, phone, internet, car, credit card, a
subscription, another company) is out_of_scope, and one naming both kinds is dropped as ambiguous.

What is trained on and what is evaluated on never meet:

- training: CLINC150 `train` + `oos_train`, and the Banking77 rows whose text hash puts them in the
  training part (`banking77_part(text) == "train"`, about 80%);
- evaluation: CLINC150 `val` + `oos_val`, and the other ~20% of Banking77 (a fixed split by the MD5 of
  the text, so it never changes and never depends on what else is in the file).

`build` samples the training side, a few examples per intent, into `data/nlu/public/` (committed, so
the product trains on a fresh clone without `../shared`); the product's own examples stay the main
voice. The evaluation side is read from `../shared/data` by bench/real_world_bench.py.

  .venv/bin/python bench/public_data.py build     # rewrites data/nlu/public/*.yml
  .venv/bin/python bench/public_data.py stats     # how many examples each side has, per intent
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
MAPPING = ROOT / "data" / "public" / "mapping.tsv"
SHARED = ROOT.parent / "shared" / "data"
OUT_DIR = ROOT / "data" / "nlu" / "public"
OUT_OF_SCOPE = "out_of_scope"
BILL_CATEGORIES = {"bill_balance", "bill_due", "pay_bill"}

# Per intent, at most this many public training examples (our own files have 40 to 50 each).
IN_SCOPE_CAP = 24
# Public out-of-scope training examples: a few per far-domain category plus CLINC's own oos queries.
OUT_OF_SCOPE_PER_CATEGORY = 1
OUT_OF_SCOPE_OOS = 30
OTHER_BILLS_CAP = 40
SEED = 12
# Out-of-scope categories evaluated on but not trained on: credit card questions (limits, APR,
# rewards) are too close to our own card-on-file intents (update_card, payment_failed, card_expiring)
# to teach as out of scope; the out-of-scope detector and the classifier still see them at evaluation.
NOT_TRAINED_OUT_OF_SCOPE = {"credit_limit", "credit_limit_change", "apr", "redeem_rewards", "rewards_balance",
                            "application_status", "international_fees", "credit_score", "improve_credit_score",
                            "pin_change"}

# Northwind's own bills: electricity, gas, energy, "my utility bill", or a bill with no other kind named.
OWN_BILL = re.compile(r"\b(electric\w*|energy|power|gas bills?|gas|heating|heater|utilit\w+|ac bill)\b")
# Other companies' bills (kinds of bill, and companies, including other energy suppliers).
OTHER_BILLS = re.compile(
    r"\b(water|phone|phoe|cell|telephone|cable|internet|tv|directv|direct tv|rent|renting|mortgage|car|auto|"
    r"insurance|premium|tax|taxes|tuition|credit card|card|visa|amex|american express|mastercard|chase|"
    r"capital one|discover|nordstrom|verizon|sprint|comcast|xfinity|at&t|att|cox|sony|hsn|netflix|amazon|"
    r"spotify|subscri\w*|domain|server|hoa|trash|student loan|loan|store|medical|vet|plumbing|groceries|"
    r"grocery|catering|lawn|donation|bribe|red cross|dte|peco|con edison|coned|pgw|duke|time warner|"
    r"spectrum|kill bill|repair|leasing|metronorth|z bill|house bill|shell|tags|registration|gym|hospital|"
    r"dentist|doctor|school|daycare|electric company|pg&e|kaiser|wells fargo|boa|bank|clay)\b"
)


@dataclass(frozen=True)
class Example:
    text: str
    intent: str  # ours
    source: str  # clinc150 / banking77
    category: str  # the public label


def read_mapping(path: Path = MAPPING) -> List[Tuple[str, str, str, str]]:
    """(source, category, intent, reason) for every mapping line."""
    rows = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        source, category, intent, reason = line.split("\t")
        rows.append((source, category, intent, reason))
    return rows


def read_mapping_categories(source: str, intent: str) -> List[str]:
    """The categories of one source mapped one by one (not by domain) to an intent."""
    return [c for s, c, i, _ in read_mapping() if s == source and i == intent and not c.startswith("domain:")]


def banking77_part(text: str) -> str:
    """A fixed 80/20 split of Banking77 by the text's MD5: "eval" rows are never trained on."""
    return "eval" if int(hashlib.md5(text.encode()).hexdigest(), 16) % 5 == 0 else "train"


def bill_kind(text: str) -> Optional[str]:
    """"own" (Northwind's bill or a bill of no named kind), "other" (another company's), None (both)."""
    lowered = text.lower()
    other = bool(OTHER_BILLS.search(lowered))
    own = bool(OWN_BILL.search(lowered))
    if other and own:
        return None
    return "other" if other else "own"


def _clinc(shared: Path) -> Tuple[Dict, Dict[str, str]]:
    data = json.loads((shared / "clinc150" / "clinc150_train_val.json").read_text())
    domains = json.loads((shared / "clinc150" / "domains.json").read_text())
    domain_of = {category: domain for domain, categories in domains.items() for category in categories}
    return data, domain_of


def _intent_for(mapping: Dict[Tuple[str, str], str], source: str, category: str, domain: Optional[str]) -> Optional[str]:
    return mapping.get((source, category)) or (mapping.get((source, f"domain:{domain}")) if domain else None)


def _map(rows: Iterable[Tuple[str, str]], source: str, mapping: Dict, domain_of: Dict[str, str]) -> List[Example]:
    examples = []
    for text, category in rows:
        intent = _intent_for(mapping, source, category, domain_of.get(category))
        if intent is None:
            continue
        if source == "clinc150" and category in BILL_CATEGORIES:
            kind = bill_kind(text)
            if kind is None:
                continue
            if kind == "other":
                intent, category = OUT_OF_SCOPE, f"{category} (other companies' bills)"
        examples.append(Example(text.strip(), intent, source, category))
    return examples


def load(side: str, shared: Path = SHARED, mapping_path: Path = MAPPING) -> List[Example]:
    """The mapped examples of one side: "train" or "eval" (see the module docstring)."""
    if side not in ("train", "eval"):
        raise ValueError(side)
    mapping = {(s, c): i for s, c, i, _ in read_mapping(mapping_path)}
    data, domain_of = _clinc(shared)
    splits = ("train", "oos_train") if side == "train" else ("val", "oos_val")
    clinc_rows = [(text, label) for split in splits for text, label in data[split]]
    with (shared / "banking77" / "train.csv").open(newline="") as handle:
        banking_rows = [(row["text"], row["category"]) for row in csv.DictReader(handle)
                        if banking77_part(row["text"]) == side]
    return _map(clinc_rows, "clinc150", mapping, domain_of) + _map(banking_rows, "banking77", mapping, {})


def sample_training(examples: List[Example], seed: int = SEED) -> List[Example]:
    """A few public examples per intent, spread over the public categories (deterministic)."""
    rng = random.Random(seed)
    by_category: Dict[Tuple[str, str], List[Example]] = defaultdict(list)
    for example in examples:
        by_category[(example.intent, example.category)].append(example)
    chosen: List[Example] = []
    by_intent: Dict[str, List[Tuple[str, str]]] = defaultdict(list)
    for key in sorted(by_category):
        by_intent[key[0]].append(key)
    for intent, keys in sorted(by_intent.items()):
        pools = {key: rng.sample(by_category[key], len(by_category[key])) for key in keys}
        if intent == OUT_OF_SCOPE:
            for key in keys:
                category = key[1]
                if category == "oos":
                    take = OUT_OF_SCOPE_OOS
                elif category.endswith("(other companies' bills)"):
                    take = OTHER_BILLS_CAP // 3
                elif category in NOT_TRAINED_OUT_OF_SCOPE:
                    take = 0
                else:
                    take = OUT_OF_SCOPE_PER_CATEGORY
                chosen += pools[key][:take]
            continue
        # round-robin over the intent's categories up to the cap
        picked: List[Example] = []
        while len(picked) < IN_SCOPE_CAP and any(pools.values()):
            for key in keys:
                if pools[key] and len(picked) < IN_SCOPE_CAP:
                    picked.append(pools[key].pop())
        chosen += picked
    return chosen


def _yaml_example(text: str) -> str:
    # Square brackets and parentheses would read as entity annotations.
    return text.replace("[", "(").replace("]", ")").replace("\n", " ")


def write_nlu(examples: List[Example], path: Path, header: str, source: str) -> None:
    by_intent: Dict[str, List[str]] = defaultdict(list)
    seen = set()
    for example in examples:
        text = _yaml_example(example.text)
        if text.lower() in seen:
            continue
        seen.add(text.lower())
        by_intent[example.intent].append(text)
    lines = [header.rstrip(), 'version: "3.1"', "nlu:"]
    for intent in sorted(by_intent):
        # the source lets LinearIntentClassifier weigh public wording below our own (config.yml)
        tag = f"{source}_out_of_scope" if intent == OUT_OF_SCOPE else source
        lines += [f"- intent: {intent}", "  metadata:", f"    source: {tag}", "  examples: |"]
        lines += [f"    - {text}" for text in by_intent[intent]]
    path.write_text("\n".join(lines) + "\n")


HEADERS = {
    "clinc150": (
        "# Sampled by bench/public_data.py from CLINC150 (Larson et al. 2019, \"An Evaluation Dataset for Intent\n"
        "# Classification and Out-of-Scope Prediction\"), github.com/clinc/oos-eval data/data_full.json, its train\n"
        "# and oos_train splits only. Licence: CC BY 3.0 (data/public/LICENSE-CLINC150.txt). Labels mapped to\n"
        "# our intents by data/public/mapping.tsv. Do not edit by hand: rerun `bench/public_data.py build`.\n"
    ),
    "banking77": (
        "# Sampled by bench/public_data.py from Banking77 (Casanueva et al. 2020, arXiv:2003.04807),\n"
        "# github.com/PolyAI-LDN/task-specific-datasets banking_data/train.csv, only the ~80% training part of\n"
        "# its fixed split (bench/public_data.py banking77_part). Licence: CC BY 4.0\n"
        "# (data/public/LICENSE-BANKING77.txt). Labels mapped by data/public/mapping.tsv. Do not edit by hand.\n"
    ),
}


def build(shared: Path = SHARED, out_dir: Path = OUT_DIR) -> Dict[str, int]:
    training = sample_training(load("train", shared))
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {}
    for source, header in HEADERS.items():
        part = [e for e in training if e.source == source]
        write_nlu(part, out_dir / f"{source}.yml", header, source)
        counts[source] = len(part)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("build", "stats"))
    parser.add_argument("--shared", type=Path, default=SHARED)
    args = parser.parse_args()
    if args.command == "build":
        print(build(args.shared))
        return
    for side in ("train", "eval"):
        counts = Counter(e.intent for e in load(side, args.shared))
        print(side, sum(counts.values()), dict(sorted(counts.items())))
    print("sampled for training", Counter(e.intent for e in sample_training(load("train", args.shared))))


if __name__ == "__main__":
    main()
