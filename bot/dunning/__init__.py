"""Dunning: escalating payment reminders, smart card retries and card-expiry notices.

The public surface (modules behind it are private)::

    report = await run(now, dry_run=False)     # one run; time is injected
    policy = load_policy(path)                 # checked YAML; PolicyError on mistakes
    aging_report(session, today)               # the aging buckets

Imports are lazy so `bot --help` does not load Jinja and the engine.
"""

from __future__ import annotations

_EXPORTS = {
    "run": ("bot.dunning.engine", "run"),
    "RunReport": ("bot.dunning.engine", "RunReport"),
    "load_policy": ("bot.dunning.policy", "load_policy"),
    "Policy": ("bot.dunning.policy", "Policy"),
    "PolicyError": ("bot.dunning.policy", "PolicyError"),
    "aging_report": ("bot.dunning.aging", "aging_report"),
    "PaymentGateway": ("bot.dunning.gateway", "PaymentGateway"),
    "SandboxGateway": ("bot.dunning.gateway", "SandboxGateway"),
    "TemplateProblem": ("bot.dunning.render", "TemplateProblem"),
}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'bot.dunning' has no attribute {name!r}")
    import importlib

    module, attribute = _EXPORTS[name]
    return getattr(importlib.import_module(module), attribute)
