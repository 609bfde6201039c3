"""Counting no-input and invalid-key misses, VoiceXML style, for menu and collect nodes."""

from __future__ import annotations

from dataclasses import dataclass, field

from ivr_engine.interpreter.context import CallContext
from ivr_engine.menus.node_models import Retry

DEFAULT_MISSES = 3


@dataclass(frozen=True)
class AfterMiss:
    """What follows a miss: try again (with these prompts first), go on, or give up."""

    prompts: list[str] = field(default_factory=list)  # played before offering again
    reprompt: bool = True  # offer the node's own prompts again
    then: str | None = None  # out of tries: the node the retry names
    give_up: bool = False  # out of tries and no node named: the call ends


@dataclass
class Misses:
    """The misses of one kind at one node."""

    retry: Retry | None
    count: int = 0

    def miss(self) -> AfterMiss:
        self.count += 1
        limit = self.retry.max if self.retry else DEFAULT_MISSES
        if self.count >= limit:
            if self.retry is None:
                return AfterMiss(give_up=True)
            return AfterMiss(then=self.retry.then)
        if self.retry is None or not self.retry.prompts:
            return AfterMiss()
        index = min(self.count, len(self.retry.prompts)) - 1
        return AfterMiss(list(self.retry.prompts[index]), self.retry.reprompt)


async def give_up(ctx: CallContext, outcome: str) -> None:
    """Out of tries with nowhere to go: record why, and hang up."""
    ctx.finish(outcome)
    await ctx.channel.hangup()
