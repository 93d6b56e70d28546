"""Sentence and token vectors from MiniLM, batched and cached.

One encoder per model directory per process: loading reads 90 MB, and a
cross-validation bench trains the pipeline five times in one process, so the
vectors of a text already seen are reused instead of recomputed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from bot.nlu.encoder.minilm import MiniLM, mean_pool
from bot.nlu.encoder.onnx_graph import GRAPH_FILE
from bot.nlu.encoder.onnx_minilm import OnnxMiniLM

logger = logging.getLogger(__name__)

# Enough for a cross-validation's texts; a text without word vectors costs
# 1.5 KB, so a long-running server's cache stays near 30 MB.
CACHE_LIMIT = 20_000


@dataclass(frozen=True)
class Encoded:
    sentence: np.ndarray  # (hidden,), unit length
    tokens: Optional[np.ndarray]  # (number of words, hidden): each word's pieces averaged; None if not asked for


_ENCODERS: Dict[str, "SentenceEncoder"] = {}


def load_model(directory: Path) -> Union[MiniLM, OnnxMiniLM]:
    """The int8 ONNX graph when `bot encoder fetch` built it, else the numpy forward pass."""
    if (directory / GRAPH_FILE).exists():
        return OnnxMiniLM.load(directory)
    logger.warning(
        "No %s in %s: encoding with numpy, several times slower (run `bot encoder fetch`)", GRAPH_FILE, directory
    )
    return MiniLM.load(directory)


class SentenceEncoder:
    def __init__(self, model: Union[MiniLM, OnnxMiniLM]) -> None:
        self.model = model
        self.dimension = model.hidden
        self._cache: Dict[Tuple[str, ...], Encoded] = {}

    @classmethod
    def shared(cls, directory: Path) -> "SentenceEncoder":
        key = str(Path(directory).resolve())
        if key not in _ENCODERS:
            _ENCODERS[key] = cls(load_model(Path(directory)))
        return _ENCODERS[key]

    def encode_words(self, texts: Sequence[Sequence[str]], word_vectors: bool = True) -> List[Encoded]:
        """Encodes pre-split texts (for Rasa, its tokens), and optionally one vector per word.

        The model reads the words' pieces as one sequence, so each word's vector
        is in context; words beyond the model's length get the last vector seen.
        """
        keys = [tuple(words) for words in texts]

        def cached(key: Tuple[str, ...]) -> bool:
            hit = self._cache.get(key)
            return hit is not None and (hit.tokens is not None or not word_vectors)

        # batches of similar length pad less
        missing = sorted({key for key in keys if not cached(key)}, key=lambda words: sum(map(len, words)))
        if len(self._cache) + len(missing) > CACHE_LIMIT:
            self._cache.clear()
        found = {}
        size = self.model.batch_size
        for start in range(0, len(missing), size):
            found.update(self._encode_batch(missing[start : start + size], word_vectors))
        if len(found) <= CACHE_LIMIT:
            self._cache.update(found)
        return [found.get(key) or self._cache[key] for key in keys]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Sentence vectors (n, hidden) for whole texts."""
        encoded = self.encode_words([(text,) for text in texts], word_vectors=False)
        return np.array([e.sentence for e in encoded], dtype=np.float32).reshape(len(texts), self.dimension)

    def _encode_batch(self, batch: Sequence[Tuple[str, ...]], word_vectors: bool) -> Dict[Tuple[str, ...], Encoded]:
        spans: List[List[Tuple[int, int]]] = []
        sequences: List[List[int]] = []
        for words in batch:
            pieces: List[int] = []
            word_spans = []
            for word in words:
                ids = self.model.tokenizer.ids(word)
                # +1: position 0 is [CLS]
                word_spans.append((len(pieces) + 1, len(pieces) + 1 + len(ids)))
                pieces.extend(ids)
            sequences.append(self.model.input_ids(pieces))
            spans.append(word_spans)
        states, mask = self.model.forward(sequences)
        sentences = mean_pool(states, mask)
        encoded = {}
        for row, words in enumerate(batch):
            tokens = self._word_vectors(states[row], int(mask[row].sum()) - 1, spans[row]) if word_vectors else None
            encoded[words] = Encoded(sentence=sentences[row].copy(), tokens=tokens)
        return encoded

    def _word_vectors(self, states: np.ndarray, last: int, spans: List[Tuple[int, int]]) -> np.ndarray:
        """Each word's pieces averaged; ``last`` is the position of [SEP]."""
        tokens = np.zeros((len(spans), self.dimension), dtype=np.float32)
        for index, (start, end) in enumerate(spans):
            start, end = min(start, last - 1), min(end, last)
            if end > start:
                tokens[index] = states[start:end].mean(0)
        return tokens
