"""Rasa policy that hands a conversation to a person when bot.escalation says so.

Rules cannot see sentiment trends, repeated fallbacks or repeated requests;
this policy can, because it reads the parse results stored on the tracker.
It predicts ``action_handoff`` right after a customer message, with full
confidence and a priority above the RulePolicy, and marks the prediction as
not depending on the user turn so it also interrupts an active form (a
customer who asks for a person during verification gets one). Thresholds are
read from configuration at prediction time, so changing them needs no retraining.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction, SupportedData
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ConversationResumed, Restarted, SessionStarted, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot.config import get_settings
from bot.escalation import Turn, decide, turn_from_parse_data

logger = logging.getLogger(__name__)

HANDOFF_ACTION = "action_handoff"


def customer_turns(tracker: DialogueStateTracker) -> List[Turn]:
    turns: List[Turn] = []
    for event in tracker.events:
        if isinstance(event, (ConversationResumed, Restarted, SessionStarted)):
            turns = []
        elif isinstance(event, UserUttered):
            turns.append(turn_from_parse_data({**event.parse_data, "text": event.text or ""}))
    return turns


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class EscalationPolicy(Policy):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"priority": 7}

    @staticmethod
    def supported_data() -> SupportedData:
        return SupportedData.ML_AND_RULE_DATA

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        # Nothing to learn: the decision is configuration. Persist an empty resource.
        with self._model_storage.write_to(self._resource):
            pass
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        just_heard_customer = tracker.latest_action_name == ACTION_LISTEN_NAME and isinstance(
            tracker.events[-1] if tracker.events else None, UserUttered
        )
        if not just_heard_customer or HANDOFF_ACTION not in domain.action_names_or_texts:
            return self._prediction(probabilities)
        decision = decide(customer_turns(tracker), get_settings().escalation)
        if decision is None:
            return self._prediction(probabilities)
        logger.info("Escalating %s: %s (%s)", tracker.sender_id, decision.reason, decision.detail)
        probabilities[domain.index_for_action(HANDOFF_ACTION)] = 1.0
        return self._prediction(probabilities, is_no_user_prediction=True)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "EscalationPolicy":
        return cls(config, model_storage, resource, execution_context)
