"""Every custom action the action server runs, listed once.

``bot.internal.action_server`` hands this module to rasa-sdk; tests/actions/test_registry.py
checks the list against domain.yml and against every Action class in the package.
"""

from __future__ import annotations

from typing import List, Type

from rasa_sdk import Action

from actions import account, handoff, payments, reminders, verification

ACTIONS: List[Type[Action]] = [
    account.ActionCheckBalance,
    account.ActionListInvoices,
    account.ActionInvoiceStatus,
    account.ActionNextPaymentDue,
    account.ActionHowToPay,
    payments.ActionPaymentFailed,
    payments.ActionCardExpiring,
    payments.ActionUpdateCard,
    reminders.ActionWhyReminder,
    reminders.ValidatePromiseForm,
    reminders.ActionRecordPromise,
    verification.ValidateVerifyForm,
    verification.ActionVerificationComplete,
    handoff.ActionHandoff,
]
