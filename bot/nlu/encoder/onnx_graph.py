"""all-MiniLM-L6-v2 as an ONNX graph with int8 weights, built from the model's own safetensors.

Why: numpy reads all 42 MB of fp32 layer weights for every message, so a
parse is bound by memory bandwidth (6 to 12 ms for the forward pass,
depending on the machine). With int8 weights (onnxruntime's dynamic
quantization) the layers take 11 MB, fit in the CPU's cache, and run on its
int8 instructions.

The graph is written here with onnx's helpers rather than exported from
PyTorch, which the project does not install. It computes what minilm.py
computes, except that GELU uses erf as the original BERT does (minilm.py
uses the tanh approximation). Inputs: ``input_ids`` (int64, batch x length)
and ``attention_mask`` (float, batch x length). Outputs: ``sentence``
(mean-pooled, unit length) and ``tokens`` (the last hidden states).
"""

from __future__ import annotations

from pathlib import Path
from typing import List

import numpy as np

from bot.nlu.encoder.minilm import MASKED, MiniLM

OPSET = 17
GRAPH_FILE = "model.int8.onnx"
# Bump when the graph or its quantization changes: `bot encoder fetch` rebuilds it.
GRAPH_VERSION = 1


class _Builder:
    """Collects nodes and weights; each call returns the name of its output."""

    def __init__(self) -> None:
        # onnx is needed to build the graph (at fetch), not to run it (onnxruntime)
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes: List = []
        self.initializers: List = []
        self._count = 0

    def name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def constant(self, value: np.ndarray, hint: str = "w") -> str:
        name = self.name(hint)
        self.initializers.append(self.numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, kind: str, *inputs: str, **attributes) -> str:
        output = self.name(kind.lower())
        self.nodes.append(self.helper.make_node(kind, list(inputs), [output], **attributes))
        return output

    def linear(self, x: str, weight: np.ndarray, bias: np.ndarray) -> str:
        return self.op(
            "Add",
            self.op("MatMul", x, self.constant(weight.astype(np.float32))),
            self.constant(bias.astype(np.float32)),
        )

    def layer_norm(self, x: str, norm: tuple, eps: float) -> str:
        weight, bias = norm
        return self.op(
            "LayerNormalization",
            x,
            self.constant(weight.astype(np.float32)),
            self.constant(bias.astype(np.float32)),
            axis=-1,
            epsilon=eps,
        )


def _attention(b: _Builder, model: MiniLM, layer, x: str, mask_bias: str) -> str:
    hidden, heads = model.hidden, model.heads
    size = hidden // heads
    split_heads = b.constant(np.array([0, 0, heads, size], dtype=np.int64), "heads_shape")
    projections = []
    for index in range(3):  # query, key, value from the fused matrix
        columns = slice(index * hidden, (index + 1) * hidden)
        projected = b.linear(x, layer.qkv[:, columns], layer.qkv_bias[columns])
        projections.append(b.op("Reshape", projected, split_heads))
    query = b.op("Transpose", projections[0], perm=[0, 2, 1, 3])
    key = b.op("Transpose", projections[1], perm=[0, 2, 3, 1])
    value = b.op("Transpose", projections[2], perm=[0, 2, 1, 3])
    scores = b.op("Mul", b.op("MatMul", query, key), b.constant(np.array(1 / np.sqrt(size), dtype=np.float32)))
    weights = b.op("Softmax", b.op("Add", scores, mask_bias), axis=-1)
    context = b.op("Transpose", b.op("MatMul", weights, value), perm=[0, 2, 1, 3])
    merged = b.op("Reshape", context, b.constant(np.array([0, 0, hidden], dtype=np.int64), "hidden_shape"))
    return b.layer_norm(
        b.op("Add", b.linear(merged, layer.attention_out, layer.attention_out_bias), x), layer.attention_norm, model.eps
    )


def _feed_forward(b: _Builder, model: MiniLM, layer, x: str) -> str:
    inner = b.linear(x, layer.intermediate, layer.intermediate_bias)
    # exact GELU: 0.5 x (1 + erf(x / sqrt 2)); onnxruntime fuses the pattern
    erf = b.op("Erf", b.op("Div", inner, b.constant(np.array(np.sqrt(2.0), dtype=np.float32))))
    gelu = b.op(
        "Mul",
        b.op("Mul", inner, b.op("Add", erf, b.constant(np.array(1.0, dtype=np.float32)))),
        b.constant(np.array(0.5, dtype=np.float32)),
    )
    return b.layer_norm(b.op("Add", b.linear(gelu, layer.output, layer.output_bias), x), layer.output_norm, model.eps)


def build(model: MiniLM):
    """The fp32 ONNX ModelProto of ``model``'s forward pass and mean pooling."""
    from onnx import TensorProto, checker, helper

    b = _Builder()
    # positions 0..length-1, read off the input's shape
    length = b.op("Gather", b.op("Shape", "input_ids"), b.constant(np.array(1, dtype=np.int64)), axis=0)
    positions = b.op("Range", b.constant(np.array(0, dtype=np.int64)), length, b.constant(np.array(1, dtype=np.int64)))
    x = b.op(
        "Add",
        b.op("Gather", b.constant(model.word, "word_embeddings"), "input_ids", axis=0),
        b.op("Gather", b.constant(model.position, "position_embeddings"), positions, axis=0),
    )
    x = b.layer_norm(b.op("Add", x, b.constant(model.token_type.astype(np.float32))), model.embedding_norm, model.eps)
    # (batch, 1, 1, length): 0 where there is a token, MASKED where there is padding
    padding = b.op("Sub", b.constant(np.array(1.0, dtype=np.float32)), "attention_mask")
    mask_bias = b.op(
        "Unsqueeze",
        b.op("Mul", padding, b.constant(np.array(MASKED, dtype=np.float32))),
        b.constant(np.array([1, 2], dtype=np.int64)),
    )
    for layer in model.layers:
        x = _feed_forward(b, model, layer, _attention(b, model, layer, x, mask_bias))
    b.nodes.append(helper.make_node("Identity", [x], ["tokens"]))
    mask = b.op("Unsqueeze", "attention_mask", b.constant(np.array([2], dtype=np.int64)))
    one_axis = b.constant(np.array([1], dtype=np.int64))
    summed = b.op("ReduceSum", b.op("Mul", x, mask), one_axis, keepdims=0)
    counts = b.op("Max", b.op("ReduceSum", mask, one_axis, keepdims=0), b.constant(np.array(1e-9, dtype=np.float32)))
    pooled = b.op("Div", summed, counts)
    norm = b.op("Max", b.op("ReduceL2", pooled, axes=[1], keepdims=1), b.constant(np.array(1e-12, dtype=np.float32)))
    b.nodes.append(helper.make_node("Div", [pooled, norm], ["sentence"]))
    graph = helper.make_graph(
        b.nodes,
        "all-MiniLM-L6-v2",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "length"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.FLOAT, ["batch", "length"]),
        ],
        [
            helper.make_tensor_value_info("sentence", TensorProto.FLOAT, ["batch", model.hidden]),
            helper.make_tensor_value_info("tokens", TensorProto.FLOAT, ["batch", "length", model.hidden]),
        ],
        b.initializers,
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="bot.nlu.encoder")
    proto.ir_version = 8  # what onnxruntime 1.23 and onnx 1.17 both read
    checker.check_model(proto)
    return proto


def write_quantized(model: MiniLM, target: Path) -> Path:
    """Builds the graph, quantizes its matrix products to int8, and writes it to ``target``."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fp32 = target.with_name(target.name + ".fp32.tmp")
    try:
        onnx.save(build(model), str(fp32))
        # Only the matrix products: the embedding tables are gathered row by row.
        # One scale per output column: a single scale per matrix costs cosine 0.97.
        quantize_dynamic(
            str(fp32), str(target), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"], per_channel=True
        )
    finally:
        fp32.unlink(missing_ok=True)
    return target
