"""The sentiment classifier itself, independent of Rasa.

Word and character n-gram TF-IDF features into a multinomial logistic
regression. Character n-grams carry typos and shouting ("WORST!!!",
"rediculous"); the project's own customer messages are the main training
signal, with a down-weighted public subset for breadth.

The model is saved as plain JSON and arrays (no pickle), so loading a model
file never runs code from it.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Tuple

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

LABELS = ("negative", "neutral", "positive")

_WORD_PARAMS = dict(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, lowercase=True,
                    token_pattern=r"(?u)\b\w+\b|[!?]+")
_CHAR_PARAMS = dict(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, lowercase=True)


@dataclass(frozen=True)
class Prediction:
    label: str
    score: float
    scores: Dict[str, float]

    def as_dict(self) -> Dict[str, object]:
        return {"label": self.label, "score": round(self.score, 4),
                "scores": {k: round(v, 4) for k, v in self.scores.items()}}


def read_labelled(path: Path) -> List[Tuple[str, str]]:
    """(label, text) rows of a TSV file with a `label<TAB>text` header."""
    rows = []
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            label, text = (row.get("label") or "").strip(), (row.get("text") or "").strip()
            if label not in LABELS:
                raise ValueError(f"{path}: unknown label {label!r} for {text!r}")
            if text:
                rows.append((label, text))
    return rows


class SentimentModel:
    def __init__(self, word: TfidfVectorizer, char: TfidfVectorizer, classifier: LogisticRegression):
        self._word = word
        self._char = char
        self._classifier = classifier

    @classmethod
    def train(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        weights: Sequence[float] = (),
        c: float = 4.0,
    ) -> "SentimentModel":
        word = TfidfVectorizer(**_WORD_PARAMS, min_df=1)
        char = TfidfVectorizer(**_CHAR_PARAMS, min_df=2)
        features = sp.hstack([word.fit_transform(texts), char.fit_transform(texts)]).tocsr()
        classifier = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
        classifier.fit(features, list(labels), sample_weight=np.asarray(weights) if len(weights) else None)
        return cls(word, char, classifier)

    def _features(self, texts: Iterable[str]) -> sp.csr_matrix:
        texts = list(texts)
        return sp.hstack([self._word.transform(texts), self._char.transform(texts)]).tocsr()

    def predict(self, texts: Sequence[str]) -> List[Prediction]:
        if not texts:
            return []
        probabilities = self._classifier.predict_proba(self._features(texts))
        classes = list(self._classifier.classes_)
        predictions = []
        for row in probabilities:
            scores = {label: float(row[classes.index(label)]) if label in classes else 0.0 for label in LABELS}
            label = max(scores, key=scores.get)
            predictions.append(Prediction(label, scores[label], scores))
        return predictions

    # persistence: JSON for vocabularies, .npy for arrays
    def save(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        meta = {
            "word_vocabulary": {k: int(v) for k, v in self._word.vocabulary_.items()},
            "char_vocabulary": {k: int(v) for k, v in self._char.vocabulary_.items()},
            "classes": [str(c) for c in self._classifier.classes_],
        }
        (directory / "sentiment.json").write_text(json.dumps(meta), encoding="utf-8")
        np.save(directory / "word_idf.npy", self._word.idf_)
        np.save(directory / "char_idf.npy", self._char.idf_)
        np.save(directory / "coef.npy", self._classifier.coef_)
        np.save(directory / "intercept.npy", self._classifier.intercept_)

    @classmethod
    def load(cls, directory: Path) -> "SentimentModel":
        directory = Path(directory)
        meta = json.loads((directory / "sentiment.json").read_text(encoding="utf-8"))
        word = TfidfVectorizer(**_WORD_PARAMS, vocabulary=meta["word_vocabulary"])
        word.idf_ = np.load(directory / "word_idf.npy", allow_pickle=False)
        char = TfidfVectorizer(**_CHAR_PARAMS, vocabulary=meta["char_vocabulary"])
        char.idf_ = np.load(directory / "char_idf.npy", allow_pickle=False)
        classifier = LogisticRegression()
        classifier.classes_ = np.array(meta["classes"])
        classifier.coef_ = np.load(directory / "coef.npy", allow_pickle=False)
        classifier.intercept_ = np.load(directory / "intercept.npy", allow_pickle=False)
        return cls(word, char, classifier)
