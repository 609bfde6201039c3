"""Every prompt id the speech functions return is in the catalogue for that language,
and every piece in the catalogue is used."""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal

import pytest

from ivr_engine.prompts.build import is_piece
from ivr_engine.prompts.catalogue import load_catalogue
from ivr_engine.speech import (
    LANGUAGES,
    data_prompts,
    digits_prompts,
    minutes_prompts,
    money_prompts,
    number_prompts,
)


def numbers() -> Iterator[int]:
    yield from range(0, 30000)
    for exponent in range(12):
        for digit in range(1, 10):
            yield digit * 10**exponent
            yield digit * 10**exponent + 2
    rng = random.Random(10086)
    for _ in range(20000):
        yield rng.randrange(10 ** rng.randint(1, 12))


def amounts() -> Iterator[Decimal]:
    for fen in range(0, 20000, 7):
        yield Decimal(fen).scaleb(-2)
        yield -Decimal(fen).scaleb(-2)
    rng = random.Random(12580)
    for _ in range(5000):
        yield Decimal(rng.randrange(10**14)).scaleb(-2)
    yield Decimal("0.005")


def spoken(language: str) -> set[str]:
    ids: set[str] = set()
    for n in numbers():
        ids.update(number_prompts(n, language))
    for amount in amounts():
        ids.update(money_prompts(amount, language))
    ids.update(digits_prompts("0123456789*#", language))
    for n in range(0, 3000):
        ids.update(data_prompts(n, language))
        ids.update(minutes_prompts(n, language))
    return ids


@pytest.mark.parametrize("language", LANGUAGES)
def test_spoken_ids_are_the_catalogue_pieces(language: str) -> None:
    catalogue = {p.prompt_id for p in load_catalogue() if p.language == language}
    used = spoken(language)
    assert used - catalogue == set(), "spoken but missing from the catalogue"
    pieces = {prompt_id for prompt_id in catalogue if is_piece(prompt_id)}
    assert pieces - used == set(), "catalogue pieces never spoken"
    assert all(is_piece(prompt_id) for prompt_id in used)


def test_same_languages_as_the_catalogue() -> None:
    from ivr_engine.prompts.catalogue import LANGUAGES as CATALOGUE_LANGUAGES

    assert set(LANGUAGES) == set(CATALOGUE_LANGUAGES)
