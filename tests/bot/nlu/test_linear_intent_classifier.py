"""The logistic-regression intent classifier: features, predictions, persistence, edge cases."""

import numpy as np
import pytest
import scipy.sparse
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfTransformer

from bot.nlu.linear_intent_classifier import LinearIntentClassifier, smooth_idf, sublinear_tfidf

CONTEXT = ExecutionContext(graph_schema=None, node_name="intents")


def unit(*values):
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def message(dense=None, counts=None, intent=None):
    m = Message(data={TEXT: "some text"})
    if intent:
        m.set(INTENT, intent)
    if dense is not None:
        m.add_features(Features(dense[np.newaxis, :], FEATURE_TYPE_SENTENCE, TEXT, "SentenceEncoderFeaturizer"))
    if counts is not None:
        m.add_features(Features(scipy.sparse.coo_matrix(np.array([counts], dtype=np.float32)),
                                FEATURE_TYPE_SENTENCE, TEXT, "CountVectorsFeaturizer"))
    return m


def training_messages():
    """balance near (1, 0, 0) with word 0; greet near (0, 1, 0) with word 1; bye near (0, 0, 1) with word 2."""
    rows = []
    for jitter in (0.0, 0.1, 0.2):
        rows.append(message(unit(1, jitter, 0), [1, 0, 0, 0], "check_balance"))
        rows.append(message(unit(jitter, 1, 0), [0, 1, 0, 0], "greet"))
        rows.append(message(unit(0, jitter, 1), [0, 0, 1, 1], "goodbye"))
    return rows


@pytest.fixture
def storage(tmp_path):
    return LocalModelStorage(tmp_path)


def trained(storage, messages=None, **config):
    classifier = LinearIntentClassifier.create(
        {**LinearIntentClassifier.get_default_config(), **config}, storage, Resource("intents"), CONTEXT)
    classifier.train(TrainingData(messages if messages is not None else training_messages()))
    return classifier


def load(storage, **config):
    return LinearIntentClassifier.load(
        {**LinearIntentClassifier.get_default_config(), **config}, storage, Resource("intents"), CONTEXT)


def test_tfidf_matches_scikit_learns_sublinear_smoothed_tfidf():
    counts = scipy.sparse.csr_matrix(np.array([[3, 0, 1, 0], [0, 2, 1, 0], [1, 1, 1, 5]], dtype=np.float32))
    expected = TfidfTransformer(sublinear_tf=True).fit(counts)
    assert smooth_idf(counts) == pytest.approx(expected.idf_, abs=1e-6)
    assert sublinear_tfidf(counts, smooth_idf(counts)).toarray() == pytest.approx(
        expected.transform(counts).toarray(), abs=1e-6)


def test_predicts_the_nearest_intent_with_a_ranking_that_sums_to_one(storage):
    classifier = trained(storage)
    [balance, greet] = classifier.process([message(unit(0.95, 0.05, 0), [1, 0, 0, 0]),
                                           message(unit(0, 1, 0.1), [0, 1, 0, 0])])
    assert balance.get(INTENT)["name"] == "check_balance"
    assert greet.get(INTENT)["name"] == "greet"
    ranking = balance.get(INTENT_RANKING_KEY)
    assert [r["name"] for r in ranking][0] == "check_balance"
    assert sorted(r["name"] for r in ranking) == ["check_balance", "goodbye", "greet"]
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0, abs=1e-5)
    assert ranking[0]["confidence"] == balance.get(INTENT)["confidence"] > ranking[1]["confidence"]


def test_words_alone_decide_when_the_vector_is_ambiguous(storage):
    classifier = trained(storage)
    # the vector sits between balance and greet; word 2 belongs only to goodbye
    [m] = classifier.process([message(unit(1, 1, 1), [0, 0, 2, 0])])
    assert m.get(INTENT)["name"] == "goodbye"


def test_a_loaded_model_predicts_exactly_what_the_trained_one_did(storage):
    probe = [message(unit(0.5, 0.5, 0.1), [1, 1, 0, 0]), message(unit(0, 0.3, 1), [0, 0, 0, 1])]
    expected = trained(storage).probabilities(probe)
    assert load(storage).probabilities(probe) == pytest.approx(expected, abs=1e-6)


def test_the_ranking_is_cut_to_its_configured_length(storage):
    classifier = trained(storage, ranking_length=2)
    [m] = classifier.process([message(unit(1, 0, 0), [1, 0, 0, 0])])
    assert len(m.get(INTENT_RANKING_KEY)) == 2


def test_two_intents_give_probabilities_that_follow_the_evidence(storage):
    two = [m for m in training_messages() if m.get(INTENT) != "goodbye"]
    classifier = trained(storage, two)
    [balance, greet] = classifier.probabilities([message(unit(1, 0, 0), [1, 0, 0, 0]),
                                                 message(unit(0, 1, 0), [0, 1, 0, 0])])
    # labels are sorted: check_balance, greet
    assert balance[0] > 0.5 > balance[1]
    assert greet[1] > 0.5 > greet[0]


def test_dense_features_alone_are_enough(storage):
    dense_only = [message(m.get_dense_features(TEXT)[1].features.reshape(-1), None, m.get(INTENT))
                  for m in training_messages()]
    classifier = trained(storage, dense_only)
    [m] = classifier.process([message(unit(0, 0.1, 1))])
    assert m.get(INTENT)["name"] == "goodbye"


def test_a_message_without_features_still_gets_a_ranking_from_the_intercepts(storage):
    classifier = trained(storage)
    [m] = classifier.process([Message(data={TEXT: "   "})])
    assert m.get(INTENT)["name"] in {"check_balance", "greet", "goodbye"}
    assert len(m.get(INTENT_RANKING_KEY)) == 3


def test_one_intent_trains_nothing_and_predicts_nothing(storage):
    only = [m for m in training_messages() if m.get(INTENT) == "greet"]
    trained(storage, only)
    classifier = load(storage)
    [m] = classifier.process([message(unit(0, 1, 0), [0, 1, 0, 0])])
    assert m.get(INTENT) is None


def test_training_without_sentence_features_is_a_clear_error(storage):
    bare = [Message(data={TEXT: "hi", INTENT: "greet"}), Message(data={TEXT: "bye", INTENT: "goodbye"})]
    with pytest.raises(ValueError, match="featurizer"):
        trained(storage, bare)


def test_sentence_features_of_different_sizes_are_a_clear_error(storage):
    mixed = training_messages() + [message(unit(1, 0), None, "greet")]
    with pytest.raises(ValueError, match="differ in size"):
        trained(storage, mixed)


def test_predictions_equal_the_training_time_feature_matrix_times_the_weights(storage):
    classifier = trained(storage)
    probe = [message(unit(0.5, 0.5, 0.1), [2, 1, 0, 0]), message(unit(0, 0.3, 1), [0, 0, 0, 3]),
             message(unit(1, 0, 0)), message(None, [0, 1, 1, 0])]
    weights = classifier._weights
    features = classifier._features(probe, weights["idf"], int(weights["dense_size"])).toarray()
    scores = features @ weights["coefficients"].T + weights["intercepts"]
    expected = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    assert classifier.probabilities(probe) == pytest.approx(expected, abs=1e-5)


def test_a_training_example_without_word_counts_counts_as_no_words(storage):
    examples = training_messages() + [message(unit(0, 1, 0.1), None, "greet")]
    classifier = trained(storage, examples)
    [m] = classifier.process([message(unit(0, 1, 0), [0, 1, 0, 0])])
    assert m.get(INTENT)["name"] == "greet"


def tagged(m, source):
    """A training example from a data file whose intent block says `metadata: {source: ...}`."""
    m.set("metadata", {"intent": {"source": source}})
    return m


def test_source_weights_keep_our_own_examples_the_main_voice(storage, tmp_path):
    """Own examples say greet, public ones say goodbye, at the same point: the weights decide."""
    def conflicting():
        rows = [message(unit(1, jitter, 0), [1, 0], "greet") for jitter in (0.0, 0.1, 0.2)]
        rows += [tagged(message(unit(1, jitter, 0), [1, 0], "goodbye"), "clinc150") for jitter in (0.0, 0.1, 0.2)]
        rows += [message(unit(0, 1, 0), [0, 1], "check_balance")]
        return rows

    def greet_confidence(classifier):
        [m] = classifier.process([message(unit(1, 0.1, 0), [1, 0])])
        return {r["name"]: r["confidence"] for r in m.get(INTENT_RANKING_KEY)}["greet"]

    unweighted = greet_confidence(trained(storage, conflicting()))
    (tmp_path / "weighted").mkdir()
    weighted = greet_confidence(trained(LocalModelStorage(tmp_path / "weighted"), conflicting(),
                                        source_weights={"clinc150": 0.25}))
    assert unweighted == pytest.approx(0.5, abs=0.05)
    assert weighted > 0.75


def test_the_source_comes_from_the_intent_blocks_metadata():
    from bot.nlu.linear_intent_classifier import example_source

    assert example_source(tagged(message(intent="greet"), "banking77")) == "banking77"
    assert example_source(message(intent="greet")) is None
