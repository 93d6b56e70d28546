"""The sentiment classifier itself, independent of Rasa.

Word and character n-gram TF-IDF features, optionally beside a dense block of
sentence-encoder vectors (all-MiniLM-L6-v2, 384 values per text), into a
multinomial logistic regression. Character n-grams carry typos and shouting
("WORST!!!", "rediculous"); the encoder's vectors carry meaning the words
alone miss (sarcasm, negation, paraphrase). The project's own
customer messages are the main training signal, with a down-weighted public
subset for breadth.

The model does not encode texts itself: whoever trains or calls it passes the
vectors (``dense``), one row per text, from the same encoder both times.

The model is saved as plain JSON and arrays (no pickle), so loading a model
file never runs code from it.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

LABELS = ("negative", "neutral", "positive")

_WORD_PARAMS = dict(
    analyzer="word", ngram_range=(1, 2), sublinear_tf=True, lowercase=True, token_pattern=r"(?u)\b\w+\b|[!?]+"
)
_CHAR_PARAMS = dict(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, lowercase=True)


@dataclass(frozen=True)
class Prediction:
    label: str
    score: float
    scores: Dict[str, float]

    def as_dict(self) -> Dict[str, object]:
        return {
            "label": self.label,
            "score": round(self.score, 4),
            "scores": {k: round(v, 4) for k, v in self.scores.items()},
        }


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
    def __init__(
        self,
        word: TfidfVectorizer,
        char: TfidfVectorizer,
        classifier: LogisticRegression,
        dense_dimension: int = 0,
        dense_scale: float = 1.0,
    ):
        self._word = word
        self._char = char
        self._classifier = classifier
        self.dense_dimension = dense_dimension  # 0: TF-IDF only
        self._dense_scale = dense_scale

    @classmethod
    def train(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        weights: Sequence[float] = (),
        c: float = 4.0,
        dense: Optional[np.ndarray] = None,
        dense_scale: float = 1.0,
    ) -> "SentimentModel":
        """Trains on the texts, and on their encoder vectors (n, d) when `dense` is given."""
        if dense is not None:
            dense = np.asarray(dense, dtype=np.float64)
            if dense.ndim != 2 or dense.shape[0] != len(texts):
                raise ValueError(f"dense must have one row per text: {len(texts)} texts, shape {dense.shape}")
        word = TfidfVectorizer(**_WORD_PARAMS, min_df=1)
        char = TfidfVectorizer(**_CHAR_PARAMS, min_df=2)
        blocks = [word.fit_transform(texts), char.fit_transform(texts)]
        dense_dimension = 0 if dense is None else dense.shape[1]
        if dense is not None:
            blocks.append(sp.csr_matrix(dense * dense_scale))
        classifier = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
        classifier.fit(
            sp.hstack(blocks).tocsr(), list(labels), sample_weight=np.asarray(weights) if len(weights) else None
        )
        return cls(word, char, classifier, dense_dimension, dense_scale)

    def _checked_dense(self, texts: List[str], dense: Optional[np.ndarray]) -> Optional[np.ndarray]:
        if self.dense_dimension:
            if dense is None:
                raise ValueError(
                    f"this sentiment model was trained with {self.dense_dimension}-value "
                    "sentence-encoder vectors: pass them as `dense`"
                )
            dense = np.asarray(dense, dtype=np.float64)
            if dense.shape != (len(texts), self.dense_dimension):
                raise ValueError(f"dense must have shape ({len(texts)}, {self.dense_dimension}), not {dense.shape}")
            return dense * self._dense_scale
        if dense is not None:
            raise ValueError("this sentiment model was trained without sentence-encoder vectors")
        return None

    def _probabilities(self, texts: Sequence[str], dense: Optional[np.ndarray]) -> np.ndarray:
        """The regression's probabilities, block by block: the same numbers as predict_proba on the
        stacked features, without building them (scipy's stacking took most of a parse's time)."""
        texts = list(texts)
        dense = self._checked_dense(texts, dense)
        coefficients = self._classifier.coef_
        words, chars = len(self._word.vocabulary_), len(self._char.vocabulary_)
        scores = (
            self._word.transform(texts) @ coefficients[:, :words].T
            + self._char.transform(texts) @ coefficients[:, words : words + chars].T
            + self._classifier.intercept_
        )
        if dense is not None:
            scores = scores + dense @ coefficients[:, words + chars :].T
        scores = np.asarray(scores)
        if scores.shape[1] == 1:  # two classes: one logistic score
            scores = np.hstack([np.zeros_like(scores), scores])
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        return scores / scores.sum(axis=1, keepdims=True)

    def predict(self, texts: Sequence[str], dense: Optional[np.ndarray] = None) -> List[Prediction]:
        """One prediction per text; `dense` (n, d) is required iff the model was trained with it."""
        if not texts:
            return []
        probabilities = self._probabilities(texts, dense)
        classes = list(self._classifier.classes_)
        predictions = []
        for row in probabilities:
            scores = {label: float(row[classes.index(label)]) if label in classes else 0.0 for label in LABELS}
            label = max(scores, key=scores.__getitem__)
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
            "dense_dimension": int(self.dense_dimension),
            "dense_scale": float(self._dense_scale),
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
        # Models saved before the dense block have neither key: TF-IDF only.
        return cls(word, char, classifier, int(meta.get("dense_dimension", 0)), float(meta.get("dense_scale", 1.0)))
