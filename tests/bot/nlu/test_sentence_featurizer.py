"""The Rasa featurizer gives messages the encoder's sentence (and token) vectors."""

import json
import shutil

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.encoder import fetch
from bot.nlu.encoder.sentence_encoder import SentenceEncoder
from bot.nlu.sentence_featurizer import SentenceEncoderFeaturizer


def make(tmp_path, **config):
    storage = LocalModelStorage(tmp_path / "storage")
    return SentenceEncoderFeaturizer.create(
        {**SentenceEncoderFeaturizer.get_default_config(), **config},
        storage, Resource("encoder"), ExecutionContext(graph_schema=None, node_name="encoder"),
    )


def tokenized(*texts):
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    messages = [Message(data={TEXT: text}) for text in texts]
    tokenizer.process(messages)
    return messages


def test_sentence_features_are_the_encoders_vector(tmp_path):
    [message] = make(tmp_path).process(tokenized("what do I owe"))
    sequence, sentence = message.get_dense_features(TEXT)
    assert sequence is None  # sequence features are off by default
    expected = SentenceEncoder.shared(fetch.DEFAULT_DIRECTORY).encode_words([["what", "do", "I", "owe"]])[0].sentence
    assert sentence.features.shape == (1, 384)
    assert np.allclose(sentence.features[0], expected)


def test_sequence_features_have_one_row_per_token(tmp_path):
    [message] = make(tmp_path, sequence_features=True).process(tokenized("my card was declined"))
    sequence, sentence = message.get_dense_features(TEXT)
    assert sequence.features.shape == (4, 384)
    assert sentence.features.shape == (1, 384)


def test_training_examples_are_featurized_and_examples_without_text_skipped(tmp_path):
    examples = tokenized("hi there", "pay my invoice") + [Message(data={"intent": "greet"})]
    make(tmp_path).process_training_data(TrainingData(examples))
    assert all(m.get_dense_features(TEXT)[1] is not None for m in examples[:2])
    assert examples[2].get_dense_features(TEXT) == (None, None)


def test_missing_model_files_are_a_clear_configuration_error(tmp_path):
    with pytest.raises(InvalidConfigException, match="bot encoder fetch"):
        make(tmp_path, model_directory=str(tmp_path / "nowhere"))


def test_fingerprint_follows_the_encoders_source(tmp_path):
    copy = tmp_path / "encoder"
    shutil.copytree(fetch.DEFAULT_DIRECTORY, copy)
    config = {"model_directory": str(copy)}
    source = json.loads((copy / fetch.SOURCE_FILE).read_text())
    fetched = SentenceEncoderFeaturizer.fingerprint_addon(config)
    assert fetch.WHEEL_SHA256 in fetched
    (copy / fetch.SOURCE_FILE).write_text(json.dumps({**source, "sha256": "other"}))
    other_wheel = SentenceEncoderFeaturizer.fingerprint_addon(config)
    # a rebuilt graph changes the vectors as much as another wheel does
    (copy / fetch.SOURCE_FILE).write_text(json.dumps({**source, "graph": source["graph"] + 1}))
    other_graph = SentenceEncoderFeaturizer.fingerprint_addon(config)
    assert len({fetched, other_wheel, other_graph}) == 3


def test_odd_and_huge_messages_still_get_vectors(tmp_path):
    """Emoji only, control characters, 20,000 characters: a vector each, no error."""
    odd = tokenized("😀😀😀", "\x00\x07", "balance " * 2500)
    make(tmp_path, sequence_features=True).process(odd)
    for message in odd:
        sequence, sentence = message.get_dense_features(TEXT)
        assert sentence.features.shape == (1, 384)
        assert np.isfinite(sentence.features).all()
        if sequence is not None:
            assert sequence.features.shape[0] == len(message.get("text_tokens"))
