"""all-MiniLM-L6-v2's forward pass in numpy, on the CPU.

A six-layer BERT (hidden 384, 12 heads) read from the model's own
``model.safetensors`` and ``config.json``. numpy comes with Rasa, so the
encoder needs no deep-learning runtime. A short message takes 6 to 12 ms
on two cores, bound by reading the 42 MB of layer weights; the product runs
the int8 ONNX graph instead (onnx_minilm.py), and this is its reference.
tests/bot/nlu/test_minilm.py compares its output with sentence-transformers'
on the same weights.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np
from safetensors.numpy import load_file

from bot.nlu.encoder.wordpiece import WordPiece

MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
MASKED = np.float32(-1e9)


@dataclass(frozen=True)
class Layer:
    qkv: np.ndarray  # query, key and value side by side: one matmul instead of three
    qkv_bias: np.ndarray
    attention_out: np.ndarray
    attention_out_bias: np.ndarray
    attention_norm: tuple
    intermediate: np.ndarray
    intermediate_bias: np.ndarray
    output: np.ndarray
    output_bias: np.ndarray
    output_norm: tuple


def with_special_tokens(tokenizer: WordPiece, pieces: Sequence[int]) -> List[int]:
    """[CLS] pieces [SEP], cut to the model's length."""
    return [tokenizer.cls_id, *pieces[: MAX_TOKENS - 2], tokenizer.sep_id]


def padded(batch: Sequence[Sequence[int]], pad_id: int) -> tuple:
    """Token ids (batch, longest) padded with ``pad_id``, and the mask of real tokens."""
    length = max(len(ids) for ids in batch)
    ids = np.full((len(batch), length), pad_id, dtype=np.int64)
    mask = np.zeros((len(batch), length), dtype=np.float32)
    for row, sequence in enumerate(batch):
        ids[row, : len(sequence)] = sequence
        mask[row, : len(sequence)] = 1.0
    return ids, mask


def _layer_norm(x: np.ndarray, norm: tuple, eps: float) -> np.ndarray:
    weight, bias = norm
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


GELU_C = np.float32(np.sqrt(2.0 / np.pi))
GELU_K = np.float32(0.044715)


def _gelu(x: np.ndarray) -> np.ndarray:
    # The tanh form: within 5e-4 of the exact erf form, and about 1.7 times as fast
    # in numpy, which matters for one message at a time.
    return 0.5 * x * (1.0 + np.tanh(GELU_C * (x + GELU_K * x * x * x)))


class MiniLM:
    # texts encoded together: each weight matrix is read once per batch
    batch_size = 32

    def __init__(self, weights: Dict[str, np.ndarray], config: dict, tokenizer: WordPiece) -> None:
        self.tokenizer = tokenizer
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        self.word = weights["embeddings.word_embeddings.weight"]
        self.position = weights["embeddings.position_embeddings.weight"]
        self.token_type = weights["embeddings.token_type_embeddings.weight"][0]
        self.embedding_norm = (weights["embeddings.LayerNorm.weight"], weights["embeddings.LayerNorm.bias"])
        self.layers = [self._layer(weights, f"encoder.layer.{i}.") for i in range(int(config["num_hidden_layers"]))]

    @staticmethod
    def _layer(w: Dict[str, np.ndarray], p: str) -> Layer:
        # Weights are stored (out, in); keep them transposed once for x @ W.
        return Layer(
            qkv=np.concatenate([w[p + f"attention.self.{n}.weight"].T for n in ("query", "key", "value")], axis=1),
            qkv_bias=np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")]),
            attention_out=w[p + "attention.output.dense.weight"].T.copy(),
            attention_out_bias=w[p + "attention.output.dense.bias"],
            attention_norm=(w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"]),
            intermediate=w[p + "intermediate.dense.weight"].T.copy(),
            intermediate_bias=w[p + "intermediate.dense.bias"],
            output=w[p + "output.dense.weight"].T.copy(),
            output_bias=w[p + "output.dense.bias"],
            output_norm=(w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
        )

    @classmethod
    def load(cls, directory: Path) -> "MiniLM":
        config = json.loads((directory / "config.json").read_text())
        weights = load_file(str(directory / "model.safetensors"))
        return cls(weights, config, WordPiece.from_vocab_file(directory / "vocab.txt"))

    def input_ids(self, pieces: Sequence[int]) -> List[int]:
        return with_special_tokens(self.tokenizer, pieces)

    def forward(self, batch: Sequence[Sequence[int]]) -> tuple:
        """Last hidden states (batch, length, hidden) and the mask (batch, length)."""
        ids, mask = padded(batch, self.tokenizer.pad_id)
        x = self.word[ids] + self.position[: ids.shape[1]] + self.token_type
        x = _layer_norm(x, self.embedding_norm, self.eps)
        bias = (1.0 - mask)[:, None, None, :] * MASKED
        for layer in self.layers:
            x = self._run_layer(layer, x, bias)
        return x, mask

    def _run_layer(self, layer: Layer, x: np.ndarray, bias: np.ndarray) -> np.ndarray:
        batch, length, _ = x.shape
        size = self.hidden // self.heads
        flat = x.reshape(batch * length, self.hidden)

        # (3, batch, heads, length, size); contiguous, or numpy's matmul leaves
        # BLAS for a slow generic loop
        qkv = (flat @ layer.qkv + layer.qkv_bias).reshape(batch, length, 3, self.heads, size)
        q, k, v = np.ascontiguousarray(qkv.transpose(2, 0, 3, 1, 4))
        scores = q @ np.ascontiguousarray(k.transpose(0, 1, 3, 2)) * np.float32(1 / np.sqrt(size)) + bias
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        attention = scores / scores.sum(-1, keepdims=True)
        context = (attention @ v).transpose(0, 2, 1, 3).reshape(batch * length, self.hidden)
        flat = _layer_norm(
            context @ layer.attention_out + layer.attention_out_bias + flat, layer.attention_norm, self.eps
        )
        inner = _gelu(flat @ layer.intermediate + layer.intermediate_bias)
        flat = _layer_norm(inner @ layer.output + layer.output_bias + flat, layer.output_norm, self.eps)
        return flat.reshape(batch, length, self.hidden)


def mean_pool(states: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' pooling for this model: masked mean, then unit length."""
    summed = (states * mask[..., None]).sum(1)
    pooled = summed / np.maximum(mask.sum(1, keepdims=True), 1e-9)
    return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
