"""Which limits the portal applies to sign-in and to the prompts.

The counts themselves live in the database (store/signin.py, store/prompts.py), so that
every portal process behind a load balancer shares them, a restart does not reset them,
and a flood of other names can't push a blocked username's count out of memory.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from store.prompts import PromptLimits
from store.signin import Limit, SignInLimits

__all__ = ["Limit", "Limits", "PromptLimits", "SignInLimits"]


@dataclass(frozen=True)
class Limits:
    """The portal's limits: the store's defaults unless a test or a deployment says otherwise."""

    sign_in: SignInLimits = field(default_factory=SignInLimits)
    prompts: PromptLimits = field(default_factory=PromptLimits)
