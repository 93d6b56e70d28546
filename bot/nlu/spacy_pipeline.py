"""The project's own spaCy pipeline: English tokenizer plus rule-based entities.

Pretrained spaCy models cannot be downloaded here, so ``build`` makes one from
``spacy.blank("en")`` and an ``entity_ruler`` and saves it with ``to_disk``.
Rasa's ``SpacyNLP`` loads it from ``models/spacy/support_en`` (see config.yml)
and ``SpacyEntityExtractor`` returns what the ruler marks; the Rasa component
``bot.nlu.entity_normalizer`` then turns the raw text into clean values.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List

import spacy
from spacy.pipeline import EntityRuler
from spacy.tokenizer import Tokenizer

from bot.accounts import identifiers
from bot.config import PROJECT_ROOT
from bot.nlu.dates import MONTHS, WEEKDAYS

DEFAULT_PATH = PROJECT_ROOT / "models" / "spacy" / "support_en"
ENTITY_LABELS = (
    "account_number",
    "invoice_number",
    "email",
    "amount",
    "date",
    "zip_code",
    "last_four",
)
# Kept whole by the tokenizer: ISO dates would otherwise split on "-".
ISO_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")

_MONTH_NAMES = sorted(MONTHS)
_WEEKDAY_NAMES = sorted(WEEKDAYS)
_ORDINAL = {"TEXT": {"REGEX": r"(?i)^\d{1,2}(st|nd|rd|th)$"}}
_DAY_NUMBER = {"TEXT": {"REGEX": r"(?i)^\d{1,2}(st|nd|rd|th)?$"}}
_MONEY_NUMBER = {"TEXT": {"REGEX": r"^(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?$"}}
_CURRENCY_WORDS = ["usd", "dollar", "dollars", "bucks", "eur", "euro", "euros", "gbp", "pound", "pounds", "quid"]


def _p(label: str, pattern: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {"label": label, "pattern": pattern}


def entity_patterns() -> List[Dict[str, Any]]:
    """Token patterns for every entity the bot understands."""
    month = {"LOWER": {"IN": _MONTH_NAMES}}
    year = {"TEXT": {"REGEX": r"^\d{4}$"}}
    patterns = identifiers.spacy_patterns() + [
        _p("email", [{"LIKE_EMAIL": True}]),
        _p("amount", [{"ORTH": {"IN": ["$", "€", "£"]}}, _MONEY_NUMBER]),
        _p("amount", [_MONEY_NUMBER, {"LOWER": {"IN": _CURRENCY_WORDS}}]),
        _p("amount", [{"LOWER": {"IN": ["usd", "eur", "gbp"]}}, _MONEY_NUMBER]),
        _p("amount", [{"LOWER": {"REGEX": r"^\d+(\.\d{1,2})?(usd|eur|gbp)$"}}]),
        _p("zip_code", [{"TEXT": {"REGEX": r"^\d{5}$"}}]),
        _p("last_four", [{"TEXT": {"REGEX": r"^\d{4}$"}}]),
        # dates
        _p("date", [{"LOWER": {"IN": ["today", "tomorrow", "tonight"]}}]),
        _p("date", [{"LOWER": "the", "OP": "?"}, {"LOWER": "day"}, {"LOWER": "after"}, {"LOWER": "tomorrow"}]),
        _p("date", [{"LOWER": {"IN": ["this", "next", "coming"]}, "OP": "?"}, {"LOWER": {"IN": _WEEKDAY_NAMES}}]),
        _p(
            "date",
            [
                {"LOWER": "end"},
                {"LOWER": "of"},
                {"LOWER": {"IN": ["the", "this", "next"]}, "OP": "?"},
                {"LOWER": "month"},
            ],
        ),
        _p("date", [{"LOWER": "next"}, {"LOWER": "week"}]),
        _p("date", [{"LOWER": "in"}, {"LIKE_NUM": True}, {"LOWER": {"IN": ["day", "days", "week", "weeks"]}}]),
        _p("date", [{"LOWER": "in"}, {"LOWER": {"IN": ["a", "one"]}}, {"LOWER": "week"}]),
        _p("date", [{"LOWER": "the"}, _ORDINAL]),
        _p("date", [{"LOWER": "the", "OP": "?"}, _DAY_NUMBER, {"LOWER": "of"}, month]),
        _p(
            "date",
            [
                {"LOWER": "the", "OP": "?"},
                _DAY_NUMBER,
                {"LOWER": "of"},
                {"LOWER": {"IN": ["next", "this"]}},
                {"LOWER": "month"},
            ],
        ),
        _p("date", [month, _DAY_NUMBER]),
        _p("date", [month, _DAY_NUMBER, {"ORTH": ",", "OP": "?"}, year]),
        _p("date", [_DAY_NUMBER, month]),
        _p("date", [_DAY_NUMBER, month, year]),
        _p("date", [{"TEXT": {"REGEX": r"^\d{4}-\d{1,2}-\d{1,2}$"}}]),
        _p("date", [{"TEXT": {"REGEX": r"^\d{1,2}/\d{1,2}(/\d{2}|/\d{4})?$"}}]),
    ]
    return patterns


def make_pipeline() -> "spacy.language.Language":
    nlp = spacy.blank("en")
    tokenizer = nlp.tokenizer
    assert isinstance(tokenizer, Tokenizer)  # a blank pipeline's is spaCy's own
    tokenizer.token_match = ISO_DATE.match
    nlp.meta.update(
        {
            "name": "support_en",
            "version": "1.0.0",
            "description": "Tokenizer and rule-based billing entities for the support bot",
        }
    )
    # Longest match wins where patterns overlap (a date's year is not a last_four).
    ruler = nlp.add_pipe("entity_ruler", config={"overwrite_ents": True})
    assert isinstance(ruler, EntityRuler)  # what the entity_ruler factory makes
    ruler.add_patterns(entity_patterns())
    return nlp


def build(path: Path = DEFAULT_PATH) -> Path:
    """Builds the pipeline and saves it where config.yml expects it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    make_pipeline().to_disk(path)
    return path
