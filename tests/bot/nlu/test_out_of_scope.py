"""The out-of-scope detector: calibration, decisions, persistence."""

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import ENTITIES, FEATURE_TYPE_SENTENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.out_of_scope import OutOfScopeDetector, calibrate


def unit(*values):
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def message(vector, intent=None, **data):
    m = Message(data={TEXT: "some text", **data})
    if intent:
        m.set(INTENT, intent if isinstance(intent, dict) else intent)
    m.add_features(Features(vector[np.newaxis, :], FEATURE_TYPE_SENTENCE, TEXT, "SentenceEncoderFeaturizer"))
    return m


@pytest.fixture
def storage(tmp_path):
    return LocalModelStorage(tmp_path)


def trained(storage, **config):
    detector = OutOfScopeDetector.create(
        {**OutOfScopeDetector.get_default_config(), **config}, storage, Resource("oos"),
        ExecutionContext(graph_schema=None, node_name="oos"))
    examples = [message(unit(1, 0, 0), "check_balance"), message(unit(0.9, 0.1, 0), "check_balance"),
                message(unit(0, 1, 0), "greet"), message(unit(0.1, 0.9, 0), "greet"),
                message(unit(0, 0, 1), "out_of_scope")]
    detector.train(TrainingData(examples))
    return detector


def predicted(intent_name, confidence=0.9):
    return {"name": intent_name, "confidence": confidence}


def test_calibration_takes_the_quantile_of_nearest_neighbour_similarities():
    examples = np.stack([unit(1, 0), unit(1, 0), unit(0, 1), unit(0.6, 0.8)])
    nearest = [1.0, 1.0, 0.8, 0.8]
    assert calibrate(examples, 0.0) == pytest.approx(min(nearest))
    assert calibrate(examples, 1.0) == pytest.approx(max(nearest))


def test_a_message_like_no_in_scope_example_becomes_out_of_scope(storage):
    detector = trained(storage, threshold=0.5)
    [m] = detector.process([message(unit(0, 0.2, 1), predicted("check_balance"))])
    assert m.get(INTENT)["name"] == "out_of_scope"
    details = m.get("out_of_scope")
    assert details["replaced_intent"] == "check_balance"
    assert details["closest_similarity"] < 0.5 == details["threshold"]


def test_a_message_near_an_in_scope_example_keeps_its_intent(storage):
    detector = trained(storage, threshold=0.5)
    [m] = detector.process([message(unit(1, 0.05, 0.1), predicted("check_balance"))])
    assert m.get(INTENT)["name"] == "check_balance"
    assert m.get("out_of_scope") is None


def test_out_of_scope_training_examples_do_not_count_as_in_scope(storage):
    detector = trained(storage, threshold=0.5)
    # identical to the out_of_scope example, far from every in-scope one
    [m] = detector.process([message(unit(0, 0, 1), predicted("greet"))])
    assert m.get(INTENT)["name"] == "out_of_scope"


def test_messages_with_entities_or_a_fallback_are_left_alone(storage):
    detector = trained(storage, threshold=0.5)
    far = unit(0, 0, 1)
    with_entity = message(far, predicted("provide_identifier"), **{ENTITIES: [{"entity": "zip_code", "value": "60614"}]})
    fallback = message(far, predicted("nlu_fallback"))
    detector.process([with_entity, fallback])
    assert with_entity.get(INTENT)["name"] == "provide_identifier"
    assert fallback.get(INTENT)["name"] == "nlu_fallback"


def test_the_calibrated_threshold_survives_saving_and_loading(storage):
    detector = trained(storage)
    loaded = OutOfScopeDetector.load(OutOfScopeDetector.get_default_config(), storage, Resource("oos"),
                                     ExecutionContext(graph_schema=None, node_name="oos"))
    assert loaded._threshold == pytest.approx(detector._threshold)
    assert np.array_equal(loaded._examples, detector._examples)


def test_training_without_sentence_vectors_is_a_clear_error(storage):
    detector = OutOfScopeDetector.create(OutOfScopeDetector.get_default_config(), storage, Resource("oos"),
                                         ExecutionContext(graph_schema=None, node_name="oos"))
    with pytest.raises(ValueError, match="SentenceEncoderFeaturizer"):
        detector.train(TrainingData([Message(data={TEXT: "hi", INTENT: "greet"})]))
