"""Runs the int8 ONNX graph of all-MiniLM-L6-v2 (onnx_graph.py) with onnxruntime.

The same interface as minilm.MiniLM (tokenizer, input_ids, forward), so
SentenceEncoder takes either. A short message takes about 2 ms here against
6 to 12 ms for the numpy forward pass; vectors are within cosine 0.98 of it
(tests/bot/nlu/test_onnx_minilm.py, bench/README.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Sequence

import numpy as np

from bot.nlu.encoder.minilm import padded, with_special_tokens
from bot.nlu.encoder.onnx_graph import GRAPH_FILE
from bot.nlu.encoder.wordpiece import WordPiece

# One thread: a parse is one short message, and the second core serves the
# hub and the action server. Training encodes 10,000 texts in about 20 s.
THREADS = 1


class OnnxMiniLM:
    # One text at a time: activations are quantized with one scale per run, so
    # in a batch a text's vector would depend on the texts beside it (cosine
    # 0.975 at worst), and training and parsing would see different vectors.
    # Batches save little here: the int8 weights already sit in the cache.
    batch_size = 1

    def __init__(self, session, config: dict, tokenizer: WordPiece) -> None:
        self._session = session
        self.tokenizer = tokenizer
        self.hidden = int(config["hidden_size"])

    @classmethod
    def load(cls, directory: Path) -> "OnnxMiniLM":
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = THREADS
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # warnings about unused initializers are not ours to act on
        session = onnxruntime.InferenceSession(str(directory / GRAPH_FILE), options, providers=["CPUExecutionProvider"])
        config = json.loads((directory / "config.json").read_text())
        return cls(session, config, WordPiece.from_vocab_file(directory / "vocab.txt"))

    def input_ids(self, pieces: Sequence[int]) -> List[int]:
        return with_special_tokens(self.tokenizer, pieces)

    def forward(self, batch: Sequence[Sequence[int]]) -> tuple:
        """Last hidden states (batch, length, hidden) and the mask (batch, length)."""
        ids, mask = padded(batch, self.tokenizer.pad_id)
        [states] = self._session.run(["tokens"], {"input_ids": ids, "attention_mask": mask})
        return np.asarray(states, dtype=np.float32), mask
