"""Every domain's tables in one metadata: what the migrations and the tests' fresh databases use.

Each domain owns its models (``bot.accounts``, ``bot.conversations``, ``bot.dunning``, ``bot.email``);
this module only gathers them, so ``bot.db`` itself never imports a domain.
"""

from __future__ import annotations

from bot.accounts import models as accounts_models  # noqa: F401
from bot.conversations import models as conversation_models  # noqa: F401
from bot.db.base import metadata
from bot.dunning import models as dunning_models  # noqa: F401
from bot.email import models as email_models  # noqa: F401

__all__ = ["metadata"]
