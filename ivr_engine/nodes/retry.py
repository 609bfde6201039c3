"""Counting no-input and invalid-key misses, VoiceXML style, for menu and collect nodes."""

from __future__ import annotations

from dataclasses import dataclass

from ivr_engine.menus.nodes import Retry

DEFAULT_MISSES = 3


@dataclass
class Misses:
    """The misses of one kind at one node, and what to say or do next."""

    retry: Retry | None
    count: int = 0

    def miss(self) -> tuple[list[str], str | None, bool]:
        """Record a miss: (prompts to play first, target when out of tries, reprompt)."""
        self.count += 1
        limit = self.retry.max if self.retry else DEFAULT_MISSES
        if self.count >= limit:
            return [], (self.retry.then if self.retry else None), False
        if self.retry is None or not self.retry.prompts:
            return [], None, True
        index = min(self.count, len(self.retry.prompts)) - 1
        return list(self.retry.prompts[index]), None, self.retry.reprompt
