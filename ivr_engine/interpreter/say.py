"""Turn a node's ``say`` list and a data record into the prompts that read it out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from ivr_engine.menus.node_models import SayItem
from ivr_engine.speech.numbers import digits_prompts, money_prompts, number_prompts


def say_prompts(items: Sequence[SayItem], data: Mapping[str, Any], language: str) -> list[str]:
    prompts: list[str] = []
    for item in items:
        if item.prompt:
            prompts.append(item.prompt)
        if item.money:
            prompts += money_prompts(Decimal(str(data[item.money])), language)
        if item.number:
            prompts += number_prompts(int(data[item.number]), language)
        if item.digits:
            prompts += digits_prompts(str(data[item.digits]), language)
    return prompts
