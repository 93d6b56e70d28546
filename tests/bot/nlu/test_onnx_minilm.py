"""The ONNX graph of MiniLM: the fp32 graph computes what sentence-transformers does; int8 stays close."""

import json
from pathlib import Path

import numpy as np
import onnxruntime
import pytest

from bot.nlu.encoder import onnx_graph
from bot.nlu.encoder.fetch import DEFAULT_DIRECTORY
from bot.nlu.encoder.minilm import MiniLM, mean_pool
from bot.nlu.encoder.onnx_minilm import OnnxMiniLM
from bot.nlu.encoder.sentence_encoder import SentenceEncoder, load_model

REFERENCE = json.loads((Path(__file__).parent / "data" / "minilm_reference.json").read_text())
TEXTS = [s["text"] for s in REFERENCE["sentences"]]
EXPECTED = np.array([s["embedding"] for s in REFERENCE["sentences"]], dtype=np.float32)


@pytest.fixture(scope="module")
def numpy_model() -> MiniLM:
    return MiniLM.load(DEFAULT_DIRECTORY)


@pytest.fixture(scope="module")
def int8_model() -> OnnxMiniLM:
    return OnnxMiniLM.load(DEFAULT_DIRECTORY)


def embed(model, texts):
    states, mask = model.forward([model.input_ids(model.tokenizer.ids(text)) for text in texts])
    return mean_pool(states, mask)


def test_the_fp32_graph_matches_sentence_transformers(numpy_model, tmp_path):
    import onnx

    path = tmp_path / "fp32.onnx"
    onnx.save(onnx_graph.build(numpy_model), str(path))
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    sequences = [numpy_model.input_ids(numpy_model.tokenizer.ids(text)) for text in TEXTS]
    ids = np.zeros((len(sequences), max(map(len, sequences))), dtype=np.int64)
    mask = np.zeros(ids.shape, dtype=np.float32)
    for row, sequence in enumerate(sequences):
        ids[row, : len(sequence)], mask[row, : len(sequence)] = sequence, 1.0
    sentence, tokens = session.run(["sentence", "tokens"], {"input_ids": ids, "attention_mask": mask})
    # erf GELU, as the model was trained: closer to the reference than numpy's tanh
    assert np.abs(sentence - EXPECTED).max() < 2e-4
    assert np.abs(mean_pool(tokens, mask) - sentence).max() < 1e-5


def test_the_int8_graph_stays_close_to_the_reference(int8_model):
    cosine = (np.array([embed(int8_model, [text])[0] for text in TEXTS]) * EXPECTED).sum(1)
    # measured: mean 0.991, worst 0.976 (the accented sentence); Banking77 accuracy is unchanged
    assert cosine.min() > 0.97
    assert cosine.mean() > 0.985


def test_a_texts_vector_does_not_depend_on_the_texts_encoded_with_it():
    # activations are quantized per run, so the encoder runs the int8 graph one text at a time
    encoder = SentenceEncoder(OnnxMiniLM.load(DEFAULT_DIRECTORY))
    together = encoder.encode(TEXTS)
    alone = np.array([SentenceEncoder(OnnxMiniLM.load(DEFAULT_DIRECTORY)).encode([text])[0] for text in TEXTS[:4]])
    assert np.array_equal(together[:4], alone)


def test_the_encoder_runs_the_int8_graph_when_it_is_there():
    assert isinstance(load_model(DEFAULT_DIRECTORY), OnnxMiniLM)
    assert isinstance(SentenceEncoder.shared(DEFAULT_DIRECTORY).model, OnnxMiniLM)


def test_without_the_graph_the_encoder_falls_back_to_numpy_and_says_so(tmp_path, caplog):
    for name in ("config.json", "model.safetensors", "vocab.txt"):
        (tmp_path / name).symlink_to(DEFAULT_DIRECTORY / name)
    assert isinstance(load_model(tmp_path), MiniLM)
    assert "bot encoder fetch" in caplog.text
