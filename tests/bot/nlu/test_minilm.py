"""The numpy MiniLM reproduces sentence-transformers' all-MiniLM-L6-v2."""

import json
from pathlib import Path

import numpy as np
import pytest

from bot.nlu.encoder.fetch import DEFAULT_DIRECTORY
from bot.nlu.encoder.minilm import MAX_TOKENS, MiniLM, mean_pool

REFERENCE = json.loads((Path(__file__).parent / "data" / "minilm_reference.json").read_text())


@pytest.fixture(scope="module")
def model() -> MiniLM:
    return MiniLM.load(DEFAULT_DIRECTORY)


def embed(model: MiniLM, texts):
    states, mask = model.forward([model.input_ids(model.tokenizer.ids(text)) for text in texts])
    return mean_pool(states, mask)


def test_sentence_vectors_match_the_reference(model):
    texts = [s["text"] for s in REFERENCE["sentences"]]
    expected = np.array([s["embedding"] for s in REFERENCE["sentences"]])
    got = embed(model, texts)
    # tanh GELU instead of erf: differences stay below 1e-3 per value
    assert np.abs(got - expected).max() < 1e-3
    cosine = (got * expected).sum(1)
    assert cosine.min() > 0.9999


def test_token_states_match_the_reference(model):
    reference = REFERENCE["token_embeddings"]
    states, _ = model.forward([model.input_ids(model.tokenizer.ids(reference["text"]))])
    assert states.shape == (1, len(reference["values"]), 384)
    assert np.abs(states[0] - np.array(reference["values"])).max() < 1e-2


def test_padding_in_a_batch_does_not_change_a_vector(model):
    alone = embed(model, ["hi"])
    batched = embed(model, ["hi", "why did I get a payment reminder for invoice INV-2024-0042"])
    assert np.abs(alone[0] - batched[0]).max() < 1e-5


def test_vectors_have_unit_length(model):
    vectors = embed(model, ["what do i owe", "", "!!!"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_a_long_text_is_cut_to_the_models_length(model):
    ids = model.input_ids(model.tokenizer.ids("balance " * 1000))
    assert len(ids) == MAX_TOKENS
    assert ids[0] == model.tokenizer.cls_id and ids[-1] == model.tokenizer.sep_id
    assert embed(model, ["balance " * 1000]).shape == (1, 384)
