"""Batching, caching and per-word vectors of the sentence encoder."""

import numpy as np
import pytest

from bot.nlu.encoder.fetch import DEFAULT_DIRECTORY
from bot.nlu.encoder.minilm import MAX_TOKENS
from bot.nlu.encoder.sentence_encoder import SentenceEncoder


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder.shared(DEFAULT_DIRECTORY)


def test_one_encoder_per_directory(encoder):
    assert SentenceEncoder.shared(DEFAULT_DIRECTORY) is encoder


def test_a_text_seen_before_is_not_encoded_again(encoder, monkeypatch):
    first = encoder.encode_words([["what", "do", "i", "owe"]])[0]
    monkeypatch.setattr(encoder.model, "forward", lambda batch: pytest.fail("encoded twice"))
    assert encoder.encode_words([["what", "do", "i", "owe"]])[0] is first


def test_one_vector_per_word_and_a_unit_sentence_vector(encoder):
    encoded = encoder.encode_words([["my", "card", "ending", "4242", "was", "declined"]])[0]
    assert encoded.tokens.shape == (6, 384)
    assert np.all(np.linalg.norm(encoded.tokens, axis=1) > 0)
    assert np.linalg.norm(encoded.sentence) == pytest.approx(1.0, abs=1e-5)


def test_a_word_with_no_word_pieces_gets_a_zero_vector(encoder):
    encoded = encoder.encode_words([["pay", "\u200b", "now"]])[0]
    assert not encoded.tokens[1].any()
    assert encoded.tokens[0].any() and encoded.tokens[2].any()


def test_words_past_the_models_length_reuse_the_last_vector(encoder):
    words = ["balance"] * (MAX_TOKENS + 10)
    encoded = encoder.encode_words([words])[0]
    assert encoded.tokens.shape == (len(words), 384)
    assert np.array_equal(encoded.tokens[-1], encoded.tokens[MAX_TOKENS - 3])


def test_similar_requests_are_closer_than_unrelated_ones(encoder):
    owe, balance, weather = encoder.encode(["what do I owe", "how much is my balance", "will it rain tomorrow"])
    # numpy: 0.45 against 0.14; the int8 graph: 0.46 against 0.16
    assert owe @ balance > owe @ weather + 0.25


def test_word_vectors_are_computed_only_when_asked_for(encoder):
    [plain] = encoder.encode_words([["is", "my", "card", "on", "file"]], word_vectors=False)
    assert plain.tokens is None
    [full] = encoder.encode_words([["is", "my", "card", "on", "file"]])
    assert full.tokens.shape == (5, 384)
    assert np.allclose(full.sentence, plain.sentence)


def test_the_cache_is_bounded(encoder, monkeypatch):
    from bot.nlu.encoder import sentence_encoder

    monkeypatch.setattr(sentence_encoder, "CACHE_LIMIT", 3)
    encoder.encode([f"text number {i}" for i in range(3)])
    assert len(encoder._cache) <= 3
    vectors = encoder.encode([f"other text {i}" for i in range(5)])  # more than fits: not cached
    assert vectors.shape == (5, 384) and len(encoder._cache) == 0


def test_no_texts_give_an_empty_matrix(encoder):
    assert encoder.encode([]).shape == (0, 384)
