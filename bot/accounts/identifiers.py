"""Account and invoice numbers: their one definition, used by the NLU's entity rules,
the entity normalizer, the actions and the email threading. Pure; no database.

An account number is "AC-" and six digits (AC-100042), an invoice number "INV-" and
five (INV-20431). Customers write them loosely: "ac 100042", "AC100042", "inv#20431".
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

ACCOUNT_PREFIX, ACCOUNT_DIGITS = "AC", 6
INVOICE_PREFIX, INVOICE_DIGITS = "INV", 5

_LOOSE_ACCOUNT = re.compile(rf"\s*{ACCOUNT_PREFIX}[\s\-#]*(\d{{{ACCOUNT_DIGITS}}})\s*", re.IGNORECASE)
_LOOSE_INVOICE = re.compile(rf"\s*{INVOICE_PREFIX}[\s\-#]*(\d{{{INVOICE_DIGITS}}})\s*", re.IGNORECASE)
# An account number inside free text, with or without its prefix (a bare six-digit number).
ACCOUNT_IN_TEXT = re.compile(
    rf"\b{ACCOUNT_PREFIX}[\s\-#]*(\d{{{ACCOUNT_DIGITS}}})\b|\b(\d{{{ACCOUNT_DIGITS}}})\b", re.IGNORECASE
)
# A normalized invoice number inside a longer string (a Message-ID, say).
INVOICE_NUMBER = rf"{INVOICE_PREFIX}-\d+"


def account_number(digits: str) -> str:
    return f"{ACCOUNT_PREFIX}-{digits}"


def invoice_number(digits: str) -> str:
    return f"{INVOICE_PREFIX}-{digits}"


def normalize_account_number(raw: Optional[str]) -> Optional[str]:
    """'ac 100042', 'AC100042' and 'AC-100042' all become 'AC-100042'."""
    match = _LOOSE_ACCOUNT.fullmatch(raw or "")
    return account_number(match.group(1)) if match else None


def normalize_invoice_number(raw: Optional[str]) -> Optional[str]:
    """'inv 20431' and 'INV20431' become 'INV-20431'."""
    match = _LOOSE_INVOICE.fullmatch(raw or "")
    return invoice_number(match.group(1)) if match else None


def account_number_in(text: Optional[str]) -> Optional[str]:
    """The first account number written anywhere in the text, normalized."""
    found = ACCOUNT_IN_TEXT.search(text or "")
    return account_number(found.group(1) or found.group(2)) if found else None


def spacy_patterns() -> List[Dict[str, Any]]:
    """spaCy entity-ruler token patterns for both numbers, as one token or prefix + digits."""
    patterns = []
    for label, prefix, digits in (
        ("account_number", ACCOUNT_PREFIX, ACCOUNT_DIGITS),
        ("invoice_number", INVOICE_PREFIX, INVOICE_DIGITS),
    ):
        patterns.append({"label": label, "pattern": [{"TEXT": {"REGEX": rf"(?i)^{prefix}-?\d{{{digits}}}$"}}]})
        patterns.append(
            {"label": label, "pattern": [{"LOWER": prefix.lower()}, {"TEXT": {"REGEX": rf"^\d{{{digits}}}$"}}]}
        )
    return patterns
