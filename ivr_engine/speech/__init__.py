"""How the IVR says numbers, money and digit strings: lists of prompt ids per language."""

from ivr_engine.speech.numbers import (
    LANGUAGES,
    data_prompts,
    digits_prompts,
    minutes_prompts,
    money_prompts,
    number_prompts,
)

__all__ = [
    "LANGUAGES",
    "data_prompts",
    "digits_prompts",
    "minutes_prompts",
    "money_prompts",
    "number_prompts",
]
