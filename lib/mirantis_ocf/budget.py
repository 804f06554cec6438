"""The time budget of one action.

Pacemaker SIGKILLs an agent's whole process group when an operation times
out, with no grace.  So every wait and every command is bounded by what is
left of ``OCF_RESKEY_CRM_meta_timeout``, minus a margin for the agent to
report back.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable
    Clock = Callable[[], float]



class Budget:
    """Seconds left before the resource manager gives up on this action."""

    def __init__(self, total: float, clock: Clock, margin: float = 0.0) -> None:
        self.total = total
        self.clock = clock
        # keep ~10% (at least 1 s, at most 5 s) to log and return an exit reason
        self.margin = margin if margin else min(max(total * 0.1, 1.0), 5.0)
        self.deadline = clock() + total - self.margin

    def remaining(self) -> float:
        return max(self.deadline - self.clock(), 0.0)

    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def cap(self, seconds: float) -> float:
        """``seconds``, or less if the budget ends sooner (never below 0.1)."""
        return max(min(seconds, self.remaining()), 0.1)


def timeout_from_env(value: str, default: float) -> float:
    """``OCF_RESKEY_CRM_meta_timeout`` is in milliseconds; fall back to ``default``."""
    try:
        ms = int(value)
    except (TypeError, ValueError):
        return default
    return ms / 1000.0 if ms > 0 else default
