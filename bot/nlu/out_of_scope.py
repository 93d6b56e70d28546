"""Rasa graph component: marks a message out of scope when it resembles nothing the bot handles.

The intent classifier must pick one of the intents it knows, and a question about the weather
or another company's bill can land on the nearest of them with confidence.
This component compares the message's sentence vector (from
SentenceEncoderFeaturizer) with every in-scope training example. When even
the closest is further than the threshold, the intent becomes
``out_of_scope``, so the bot says what it can do instead of answering the
wrong question.

The threshold calibrates itself at training time: leave each in-scope
example out, find its closest neighbour among the others, and take the
``in_scope_quantile`` of those similarities. So about that share of in-scope
wording sits below it, whatever the training data. Messages with entities
(an account number, a card's digits) are left alone: they usually answer
the bot's own question.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.sentence_featurizer import sentence_vector

logger = logging.getLogger(__name__)

OUT_OF_SCOPE = "out_of_scope"
KEEP = {OUT_OF_SCOPE, "nlu_fallback"}


def calibrate(examples: np.ndarray, quantile: float) -> float:
    """The ``quantile`` of each example's similarity to its nearest other example."""
    if len(examples) < 2:
        return 0.0
    similarity = examples @ examples.T
    np.fill_diagonal(similarity, -np.inf)
    return float(np.quantile(similarity.max(axis=1), quantile))


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class OutOfScopeDetector(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # share of in-scope training wording allowed below the threshold
            "in_scope_quantile": 0.02,
            # a fixed threshold instead of the calibrated one (null: calibrate)
            "threshold": None,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        examples: Optional[np.ndarray] = None,
        threshold: float = 0.0,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._examples = examples
        self._threshold = threshold

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "OutOfScopeDetector":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        vectors = []
        for message in training_data.intent_examples:
            vector = sentence_vector(message)
            if message.get(INTENT) not in KEEP and vector is not None:
                vectors.append(vector)
        if not vectors:
            raise ValueError("OutOfScopeDetector needs SentenceEncoderFeaturizer before it in the pipeline")
        examples = np.stack(vectors)
        examples /= np.maximum(np.linalg.norm(examples, axis=1, keepdims=True), 1e-12)
        fixed = self._config.get("threshold")
        threshold = float(fixed) if fixed is not None else calibrate(examples, float(self._config["in_scope_quantile"]))
        logger.info("Out-of-scope threshold %.3f over %d in-scope examples", threshold, len(examples))
        with self._model_storage.write_to(self._resource) as directory:
            np.save(directory / "examples.npy", examples)
            (directory / "threshold.json").write_text(json.dumps({"threshold": threshold}))
        self._examples, self._threshold = examples, threshold
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "OutOfScopeDetector":
        with model_storage.read_from(resource) as directory:
            examples = np.load(directory / "examples.npy", allow_pickle=False)
            threshold = json.loads((directory / "threshold.json").read_text())["threshold"]
        return cls(config, model_storage, resource, examples, threshold)

    def process(self, messages: List[Message]) -> List[Message]:
        if self._examples is None:
            return messages
        for message in messages:
            self._check(message)
        return messages

    def _check(self, message: Message) -> None:
        intent = message.get(INTENT) or {}
        vector = sentence_vector(message)
        if vector is None or intent.get(INTENT_NAME_KEY) in KEEP or message.get(ENTITIES):
            return
        closest = float((self._examples @ vector).max()) / max(float(np.linalg.norm(vector)), 1e-12)
        if closest >= self._threshold:
            return
        message.set(
            INTENT, {INTENT_NAME_KEY: OUT_OF_SCOPE, PREDICTED_CONFIDENCE_KEY: 1.0 - closest}, add_to_output=True
        )
        message.set(
            "out_of_scope",
            {
                "closest_similarity": round(closest, 4),
                "threshold": round(self._threshold, 4),
                "replaced_intent": intent.get(INTENT_NAME_KEY),
            },
            add_to_output=True,
        )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
