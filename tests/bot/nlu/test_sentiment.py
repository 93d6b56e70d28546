"""The Rasa sentiment component: trains on TF-IDF and encoder vectors, reads the featurizer's vector."""

import json

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

from bot.config import PROJECT_ROOT
from bot.nlu import sentiment
from bot.nlu.encoder import fetch
from bot.nlu.encoder.sentence_encoder import SentenceEncoder
from bot.nlu.sentence_featurizer import SentenceEncoderFeaturizer
from bot.nlu.sentiment import SENTIMENT, SentimentAnalyzer

SUPPORT = str(PROJECT_ROOT / "data" / "sentiment" / "support.tsv")


def config(**overrides):
    return {**SentimentAnalyzer.get_default_config(), "training_files": [[SUPPORT, 1.0]], **overrides}


def context(name="sentiment"):
    return ExecutionContext(graph_schema=None, node_name=name)


def train(tmp_path, **overrides):
    """Trains in a fresh model storage and loads the component back from it."""
    storage = LocalModelStorage(tmp_path)
    resource = Resource("sentiment")
    cfg = config(**overrides)
    SentimentAnalyzer.create(cfg, storage, resource, context()).train(TrainingData())
    return storage, resource


def load(storage, resource, **overrides):
    return SentimentAnalyzer.load(config(**overrides), storage, resource, context())


def messages(*texts):
    return [Message(data={TEXT: text}) for text in texts]


def featurized(*texts):
    """Messages as the pipeline hands them over: tokenized, then given the featurizer's vectors."""
    found = messages(*texts)
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process(found)
    featurizer = SentenceEncoderFeaturizer.create(
        SentenceEncoderFeaturizer.get_default_config(), None, Resource("encoder"),
        context("run_bot.nlu.sentence_featurizer.SentenceEncoderFeaturizer1"))
    return featurizer.process(found)


def no_encoder(monkeypatch):
    monkeypatch.setattr(SentenceEncoder, "shared", classmethod(lambda cls, directory: pytest.fail("encoded")))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train(tmp_path_factory.mktemp("sentiment"))


def test_trains_with_encoder_vectors_and_labels_messages_after_loading(trained):
    storage, resource = trained
    with storage.read_from(resource) as directory:
        assert json.loads((directory / "sentiment.json").read_text())["dense_dimension"] == 384
    negative, neutral, positive = load(storage, resource).process(messages(
        "this is the third time I'm asking and nobody has fixed it",
        "could you send me a copy of my invoice please",
        "brilliant, thanks for sorting that out so quickly",
    ))
    assert negative.get(SENTIMENT)["label"] == "negative"
    assert neutral.get(SENTIMENT)["label"] == "neutral"
    assert positive.get(SENTIMENT)["label"] == "positive"
    assert set(negative.get(SENTIMENT)["scores"]) == {"negative", "neutral", "positive"}


def test_takes_the_featurizers_vector_and_encodes_only_messages_without_one(trained, monkeypatch):
    storage, resource = trained
    component = load(storage, resource)
    model = component._model
    encoder = SentenceEncoder.shared(fetch.DEFAULT_DIRECTORY)
    # A message whose feature is another text's vector: the prediction follows the feature.
    [borrowed] = messages("ok")
    [donor] = featurized("thank you so much you were wonderful")
    for feature in donor.features:
        borrowed.add_features(feature)
    with_feature = featurized("my card was declined again")
    without = messages("thanks a lot")
    calls = []
    real_encode = encoder.encode
    monkeypatch.setattr(encoder, "encode", lambda texts: calls.append(list(texts)) or real_encode(texts))

    component.process([borrowed] + with_feature + without)

    assert calls == [["thanks a lot"]]
    donor_vector = donor.get_dense_features(TEXT)[1].features
    assert borrowed.get(SENTIMENT) == model.predict(["ok"], donor_vector)[0].as_dict()
    assert borrowed.get(SENTIMENT) != model.predict(["ok"], real_encode(["ok"]))[0].as_dict()
    assert with_feature[0].get(SENTIMENT)["label"] == "negative"
    assert without[0].get(SENTIMENT) == model.predict(["thanks a lot"], real_encode(["thanks a lot"]))[0].as_dict()


def test_without_an_encoder_directory_it_trains_and_runs_on_tfidf_alone(tmp_path, monkeypatch):
    no_encoder(monkeypatch)
    storage, resource = train(tmp_path, encoder_directory=None)
    with storage.read_from(resource) as directory:
        assert json.loads((directory / "sentiment.json").read_text())["dense_dimension"] == 0
    # Loaded with the default config (as an archive from before the encoder), it still never encodes.
    [message] = load(storage, resource).process(messages("this is useless, fix it now"))
    assert message.get(SENTIMENT)["label"] == "negative"


def test_missing_encoder_files_are_a_clear_error(tmp_path, trained):
    missing = str(tmp_path / "no-encoder")
    with pytest.raises(InvalidConfigException, match="bot encoder fetch"):
        train(tmp_path / "storage", encoder_directory=missing)
    # A model trained with vectors, loaded where the encoder is missing: messages the
    # featurizer has seen still work, others get the same clear error.
    component = load(*trained, encoder_directory=missing)
    [message] = component.process(featurized("please cancel my subscription"))
    assert message.get(SENTIMENT)["label"] in {"negative", "neutral", "positive"}
    with pytest.raises(InvalidConfigException, match="bot encoder fetch"):
        component.process(messages("please cancel my subscription"))


def test_the_encoder_is_part_of_the_fingerprint():
    with_encoder = SentimentAnalyzer.fingerprint_addon(config())
    assert with_encoder != SentimentAnalyzer.fingerprint_addon(config(encoder_directory=None))
    assert sentiment.encoder_directory(config()) == fetch.DEFAULT_DIRECTORY
