"""Rasa graph component that labels every message's sentiment.

Adds ``"sentiment": {"label": "negative"|"neutral"|"positive", "score": p,
"scores": {...}}`` to the parse result (so ``/model/parse`` and the tracker's
``UserUttered`` events carry it). It is trained by ``rasa train`` from the
labelled files named in config.yml and persisted inside the model archive.

Besides word and character TF-IDF, the classifier reads each message's
all-MiniLM-L6-v2 sentence vector (on tests/heldout/sentiment.tsv it lifts
3-class macro-F1 from 0.82 to 0.895). Training encodes the labelled files with
the encoder in ``encoder_directory`` (by default the featurizer's own). When
processing, the vector comes from the message's dense sentence feature if a
SentenceEncoderFeaturizer ran before this component, and is encoded here
otherwise; both must come from the same encoder files. ``encoder_directory:
null`` trains the TF-IDF-only model, and a model trained without vectors
(an older archive) keeps working without the encoder.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.config import PROJECT_ROOT
from bot.nlu import sentence_featurizer
from bot.nlu.encoder import fetch
from bot.nlu.encoder.sentence_encoder import SentenceEncoder
from bot.nlu.sentiment_model import SentimentModel, read_labelled

logger = logging.getLogger(__name__)

SENTIMENT = "sentiment"


def _resolve(path: str) -> Path:
    candidate = Path(path)
    if candidate.is_absolute() or candidate.exists():
        return candidate
    return PROJECT_ROOT / candidate


def encoder_directory(config: Dict[Text, Any]) -> Optional[Path]:
    """The encoder's files, resolved as the featurizer resolves them; None: no encoder."""
    if not config.get("encoder_directory"):
        return None
    return sentence_featurizer.model_directory({"model_directory": config["encoder_directory"]})


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=True)
class SentimentAnalyzer(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # [path, weight] pairs; the project's own messages should weigh most.
            "training_files": [["data/sentiment/support.tsv", 1.0]],
            # Chosen by 5-fold cross-validation on the training files (macro-F1
            # on the support rows) for TF-IDF + encoder vectors.
            "C": 1.0,
            # The sentence encoder's files, relative to the project root; the
            # same default as SentenceEncoderFeaturizer's model_directory.
            # null: train on TF-IDF features only.
            "encoder_directory": sentence_featurizer.SentenceEncoderFeaturizer.get_default_config()["model_directory"],
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
        directory = encoder_directory(config)
        if directory is not None:
            # the encoder's files change the vectors the model is trained on
            digest.update(fetch.fingerprint(directory).encode())
        return digest.hexdigest()

    def _encoder(self) -> SentenceEncoder:
        directory = encoder_directory(self._config)
        if directory is None:
            raise InvalidConfigException(
                "SentimentAnalyzer: the model was trained with sentence-encoder vectors but "
                "encoder_directory is not set"
            )
        if not fetch.is_fetched(directory):
            raise InvalidConfigException(
                f"SentimentAnalyzer: the sentence encoder's files are not in {directory}. "
                "Run `.venv/bin/bot encoder fetch` (bin/setup does it)."
            )
        return SentenceEncoder.shared(directory)

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
        dense = self._encoder().encode(texts) if encoder_directory(self._config) is not None else None
        self._model = SentimentModel.train(texts, labels, weights, c=float(self._config["C"]), dense=dense)
        logger.info(
            "Trained sentiment on %d labelled messages (%s)",
            len(texts),
            "TF-IDF and encoder vectors" if dense is not None else "TF-IDF only",
        )
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
        dimension = self._model.dense_dimension
        dense = self._vectors(messages, texts, dimension) if dimension else None
        for message, prediction in zip(messages, self._model.predict(texts, dense), strict=True):
            message.set(SENTIMENT, prediction.as_dict(), add_to_output=True)
        return messages

    def _vectors(self, messages: List[Message], texts: List[str], dimension: int) -> np.ndarray:
        """Each message's sentence vector: the featurizer's, or encoded here when it has none."""
        found = [sentence_featurizer.sentence_vector(message, dimension) for message in messages]
        missing = [index for index, vector in enumerate(found) if vector is None]
        encoded: Dict[int, np.ndarray] = {}
        if missing:
            encoded = dict(zip(missing, self._encoder().encode([texts[index] for index in missing]), strict=True))
        return np.stack([vector if vector is not None else encoded[index] for index, vector in enumerate(found)])

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
