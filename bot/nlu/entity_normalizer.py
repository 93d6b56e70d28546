"""Rasa graph component that turns extracted entity text into clean values.

``SpacyEntityExtractor`` reports what the project's spaCy rules matched, as
typed. This component rewrites each entity's ``value``: dates become ISO dates
("next friday" -> "2026-11-27"), money becomes "120.00 USD", account and
invoice numbers get their canonical form, ZIP codes and card digits keep only
digits. The text as typed stays in ``raw``. Entities whose text cannot be read
(for example "13/45") are dropped rather than passed on wrong.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.accounts.identifiers import normalize_account_number, normalize_invoice_number
from bot.config import today
from bot.nlu.amounts import parse_amount
from bot.nlu.dates import parse_date


def normalize_value(entity: str, text: str, reference_day) -> Optional[str]:
    """The clean value of one entity, or None when the text does not parse."""
    if entity == "date":
        date = parse_date(text, reference_day)
        return date.isoformat() if date else None
    if entity == "amount":
        amount = parse_amount(text)
        return f"{amount[0]} {amount[1]}" if amount else None
    if entity == "account_number":
        return normalize_account_number(text)
    if entity == "invoice_number":
        return normalize_invoice_number(text)
    if entity in ("zip_code", "last_four"):
        digits = re.sub(r"\D", "", text)
        return digits or None
    if entity == "email":
        return text.strip().lower()
    return text


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class EntityNormalizer(GraphComponent):
    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "EntityNormalizer":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        reference_day = today()
        for message in messages:
            cleaned = []
            for entity in message.get(ENTITIES, []):
                raw = str(entity.get("value", ""))
                value = normalize_value(entity.get("entity", ""), raw, reference_day)
                if value is None:
                    continue
                cleaned.append({**entity, "value": value, "raw": raw})
            message.set(ENTITIES, cleaned, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
