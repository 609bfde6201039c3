"""Everything a node may read or change while it handles one call."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ivr_engine.data.backend import Counters, Profile, SubscriberBackend
from ivr_engine.interpreter.calendar import Calendar
from ivr_engine.interpreter.channel import Channel
from ivr_engine.interpreter.waiting import WaitingDesk
from ivr_engine.journal import CallRecord
from ivr_engine.menus.loader import MenuSet

if TYPE_CHECKING:
    from ivr_engine.data.nuisance import NuisanceGuard, Verdict


@dataclass
class Services:
    """What the engine lends every call: data, counters, time, the hotline's region."""

    backend: SubscriberBackend
    counters: Counters
    calendar: Calendar
    region: str
    rng: random.Random = field(default_factory=random.Random)
    nuisance: NuisanceGuard | None = None  # counts every call as it enters


@dataclass
class CallContext:
    menus: MenuSet
    channel: Channel
    record: CallRecord
    services: Services
    caller: str
    dialled: str
    profile: Profile | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    menu_trail: list[str] = field(default_factory=list)  # menus visited, for 'back'
    returns: list[str] = field(default_factory=list)  # where 'return' goes, innermost last
    pending_key: str | None = None  # a key pressed during a barge-in prompt
    outcome: str | None = None
    nuisance: Verdict | None = None  # the caller calls too often: refused as blacklisted
    desk: WaitingDesk | None = None  # the ACD, bound to this call; None: ACD off
    # Called with True while the caller keys in a secret, so lower layers hide the keys.
    on_mask: Callable[[bool], None] = lambda _on: None

    def mask(self, on: bool) -> None:
        self.on_mask(on)

    def pressed(self, keys: str, secret: bool = False) -> None:
        if keys:
            self.record.add_keys("*" * len(keys) if secret else keys)

    def step(self, kind: str, detail: str = "") -> None:
        self.record.add_step(kind, detail)

    def finish(self, outcome: str) -> None:
        if self.outcome is None:
            self.outcome = outcome
            self.step("outcome", outcome)

    def subject(self, name: str) -> Any:
        """The value a condition tests: profile.x, var.x, counter.x, caller.x."""
        scope, _, key = name.partition(".")
        if scope == "profile":
            return self.profile.as_dict().get(key) if self.profile else None
        if scope == "var":
            return self.variables.get(key)
        if scope == "counter":
            return self.counters.get(key, 0)
        if scope == "caller":
            caller = {"number": self.caller, "dialled": self.dialled}
            if self.profile is not None:
                caller |= {"region": self.profile.home_region, "network": self.profile.network}
            return caller.get(key)
        return None
