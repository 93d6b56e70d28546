"""Sentence and token vectors from MiniLM, batched and cached.

One encoder per model directory per process: loading reads 90 MB, and a
cross-validation bench trains the pipeline five times in one process, so the
vectors of a text already seen are reused instead of recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np

from bot.nlu.encoder.minilm import MiniLM, mean_pool

BATCH_SIZE = 32
CACHE_LIMIT = 200_000  # entries; a cached text costs a few KB


@dataclass(frozen=True)
class Encoded:
    sentence: np.ndarray  # (hidden,), unit length
    tokens: np.ndarray  # (number of words, hidden): each word's pieces averaged


_ENCODERS: Dict[str, "SentenceEncoder"] = {}


class SentenceEncoder:
    def __init__(self, model: MiniLM) -> None:
        self.model = model
        self.dimension = model.hidden
        self._cache: Dict[Tuple[str, ...], Encoded] = {}

    @classmethod
    def shared(cls, directory: Path) -> "SentenceEncoder":
        key = str(Path(directory).resolve())
        if key not in _ENCODERS:
            _ENCODERS[key] = cls(MiniLM.load(Path(directory)))
        return _ENCODERS[key]

    def encode_words(self, texts: Sequence[Sequence[str]]) -> List[Encoded]:
        """Encodes pre-split texts (for Rasa, its tokens), one vector per word.

        The model reads the words' pieces as one sequence, so each word's vector
        is in context; words beyond the model's length get the last vector seen.
        """
        keys = [tuple(words) for words in texts]
        # batches of similar length pad less
        missing = sorted({key for key in keys if key not in self._cache}, key=lambda words: sum(map(len, words)))
        for start in range(0, len(missing), BATCH_SIZE):
            self._encode_batch(missing[start : start + BATCH_SIZE])
        return [self._cache[key] for key in keys]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Sentence vectors (n, hidden) for whole texts."""
        return np.stack([encoded.sentence for encoded in self.encode_words([(text,) for text in texts])])

    def _encode_batch(self, batch: Sequence[Tuple[str, ...]]) -> None:
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
        if len(self._cache) > CACHE_LIMIT:
            self._cache.clear()
        for row, words in enumerate(batch):
            last = int(mask[row].sum()) - 1  # [SEP]
            tokens = np.zeros((len(words), self.dimension), dtype=np.float32)
            for index, (start, end) in enumerate(spans[row]):
                start, end = min(start, last - 1), min(end, last)
                if end > start:
                    tokens[index] = states[row, start:end].mean(0)
            self._cache[words] = Encoded(sentence=sentences[row], tokens=tokens)
