"""The action registry lists exactly the custom actions domain.yml names, and every
Action class in the package; the action server registers exactly those."""

import importlib
import inspect
import pkgutil

import yaml
from rasa_sdk import Action
from rasa_sdk.executor import ActionExecutor

import actions
from actions.answers import ANSWERS
from actions.registry import ACTIONS
from bot.config import PROJECT_ROOT


def domain_custom_actions():
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
    return {name for name in domain["actions"] if name.startswith(("action_", "validate_"))}


def test_the_registry_is_the_domain_s_custom_actions():
    names = [action().name() for action in ACTIONS]
    assert len(names) == len(set(names))
    assert set(names) == domain_custom_actions()


def test_every_action_class_in_the_package_is_listed():
    defined = set()
    for module in pkgutil.iter_modules(actions.__path__):
        loaded = importlib.import_module(f"actions.{module.name}")
        defined |= {cls for _, cls in inspect.getmembers(loaded, inspect.isclass)
                    if issubclass(cls, Action) and cls.__module__ == loaded.__name__}
    assert defined == set(ACTIONS)


def test_the_executor_registers_the_registry():
    executor = ActionExecutor()
    executor.register_package("actions.registry")
    assert {a().name() for a in ACTIONS} <= set(executor.actions)


def test_every_answer_has_an_action_that_uses_it():
    by_intent = {getattr(a, "intent", None): a for a in ACTIONS}
    for intent, answer in ANSWERS.items():
        assert by_intent[intent].answer is answer, intent
