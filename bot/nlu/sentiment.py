"""Rasa graph component that labels every message's sentiment.

Adds ``"sentiment": {"label": "negative"|"neutral"|"positive", "score": p,
"scores": {...}}`` to the parse result (so ``/model/parse`` and the tracker's
``UserUttered`` events carry it). It is trained by ``rasa train`` from the
labelled files named in config.yml and persisted inside the model archive.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.config import PROJECT_ROOT
from bot.nlu.sentiment_model import SentimentModel, read_labelled

logger = logging.getLogger(__name__)

SENTIMENT = "sentiment"


def _resolve(path: str) -> Path:
    candidate = Path(path)
    if candidate.is_absolute() or candidate.exists():
        return candidate
    return PROJECT_ROOT / candidate


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=True)
class SentimentAnalyzer(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # [path, weight] pairs; the project's own messages should weigh most.
            "training_files": [["data/sentiment/support.tsv", 1.0]],
            "C": 4.0,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[SentimentModel] = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SentimentAnalyzer":
        return cls(config, model_storage, resource)

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """Retrains when the labelled files change, not only the config."""
        digest = hashlib.sha256()
        for path, weight in config.get("training_files", []):
            digest.update(f"{path}:{weight}".encode())
            resolved = _resolve(path)
            if resolved.exists():
                digest.update(resolved.read_bytes())
        return digest.hexdigest()

    def train(self, training_data: TrainingData) -> Resource:
        texts: List[str] = []
        labels: List[str] = []
        weights: List[float] = []
        for path, weight in self._config["training_files"]:
            rows = read_labelled(_resolve(path))
            texts += [text for _, text in rows]
            labels += [label for label, _ in rows]
            weights += [float(weight)] * len(rows)
        if not texts:
            raise ValueError("SentimentAnalyzer: no labelled sentiment examples found")
        self._model = SentimentModel.train(texts, labels, weights, c=float(self._config["C"]))
        logger.info("Trained sentiment on %d labelled messages", len(texts))
        with self._model_storage.write_to(self._resource) as directory:
            self._model.save(directory)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "SentimentAnalyzer":
        with model_storage.read_from(resource) as directory:
            model = SentimentModel.load(directory)
        return cls(config, model_storage, resource, model)

    def process(self, messages: List[Message]) -> List[Message]:
        if self._model is None:
            return messages
        texts = [message.get(TEXT) or "" for message in messages]
        for message, prediction in zip(messages, self._model.predict(texts)):
            message.set(SENTIMENT, prediction.as_dict(), add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
