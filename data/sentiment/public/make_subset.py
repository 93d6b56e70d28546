#!/usr/bin/env python3
"""Build goemotions_subset.tsv: a small, deterministic GoEmotions sentiment subset.

Standard library only. Reads the GoEmotions "group" split (Reddit comments labelled
ambiguous / negative / neutral / positive, multi-label ids) and writes
`label<TAB>text` rows: 600 negative, 600 neutral, 300 positive.

Rules:
  * only rows with exactly one label id;
  * label ids are mapped through labels.txt in the same folder; "ambiguous" is skipped;
  * CSV-style quoting left in the source ("...""..."" ...") is undone;
  * whitespace is normalised (tabs/newlines/runs of spaces -> one space);
  * texts shorter than 4 words are skipped;
  * texts with Reddit anonymisation placeholders ([NAME], [RELIGION], ...) or links are skipped;
  * exact duplicate texts (case-insensitive) are kept once;
  * selection uses random.Random(SEED), so the output is identical on every run.

Usage:
  python3 data/sentiment/public/make_subset.py \
      [--src /work/shared/data/goemotions/group/train.tsv] \
      [--out data/sentiment/public/goemotions_subset.tsv]
"""
import argparse
import os
import random
import re
import sys

SEED = 20200501
QUOTA = {"negative": 600, "neutral": 600, "positive": 300}
DEFAULT_SRC = "/work/shared/data/goemotions/group/train.tsv"
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "goemotions_subset.tsv")

PLACEHOLDER = re.compile(r"\[[A-Z]+\]")
LINK = re.compile(r"https?://|www\.|/r/|/u/", re.IGNORECASE)
WS = re.compile(r"\s+")


def unquote(text):
    """Undo CSV quoting present in ~1,100 source rows: "a ""b"" c" -> a "b" c."""
    t = text.strip()
    if len(t) >= 2 and t.startswith('"') and t.endswith('"') and '""' in t:
        return t[1:-1].replace('""', '"')
    return text


def read_labels(path):
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", default=DEFAULT_SRC)
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()

    labels = read_labels(os.path.join(os.path.dirname(args.src), "labels.txt"))
    pools = {k: [] for k in QUOTA}
    seen = set()
    with open(args.src, encoding="utf-8", newline="") as f:
        for lineno, line in enumerate(f, 1):
            parts = line.rstrip("\r\n").split("\t")
            if len(parts) != 3:
                sys.exit(f"{args.src}:{lineno}: expected 3 fields, got {len(parts)}")
            text, ids, _comment_id = parts
            ids = [i for i in ids.split(",") if i != ""]
            if len(ids) != 1:
                continue
            label = labels[int(ids[0])]
            if label not in QUOTA:  # ambiguous
                continue
            text = WS.sub(" ", unquote(text)).strip()
            if len(text.split(" ")) < 4:
                continue
            if PLACEHOLDER.search(text) or LINK.search(text):
                continue
            key = text.lower()
            if key in seen:
                continue
            seen.add(key)
            pools[label].append(text)

    rng = random.Random(SEED)
    rows = []
    for label in sorted(QUOTA):
        pool = pools[label]
        if len(pool) < QUOTA[label]:
            sys.exit(f"only {len(pool)} eligible {label} rows, need {QUOTA[label]}")
        rows.extend((label, t) for t in rng.sample(pool, QUOTA[label]))
    rng.shuffle(rows)

    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        f.write("label\ttext\n")
        for label, text in rows:
            assert "\t" not in text and "\n" not in text
            f.write(f"{label}\t{text}\n")

    counts = {k: sum(1 for l, _ in rows if l == k) for k in QUOTA}
    print(f"wrote {len(rows)} rows to {args.out}: {counts}")
    print("eligible pool sizes:", {k: len(v) for k, v in pools.items()})


if __name__ == "__main__":
    main()
