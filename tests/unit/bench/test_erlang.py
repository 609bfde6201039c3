"""The Erlang formulas of the benchmarks against the check values in the domain brief."""

from __future__ import annotations

import math

import pytest

from bench.erlang import asa, erlang_b, erlang_c, service_level


def test_erlang_b_recurrence_small_cases() -> None:
    assert erlang_b(0, 3.0) == 1.0
    assert erlang_b(1, 1.0) == pytest.approx(0.5)  # A / (1 + A)
    assert erlang_b(2, 1.0) == pytest.approx(0.2)  # (A^2/2) / (1 + A + A^2/2)


def test_thirteen_agents_for_ten_erlangs() -> None:
    # lambda = 200/h, AHT = 180 s: A = 10 erlangs
    assert erlang_c(13, 10.0) == pytest.approx(0.285, abs=0.0005)
    assert service_level(13, 10.0, 180.0, 20.0) == pytest.approx(0.796, abs=0.0005)


def test_fourteen_agents_for_ten_erlangs() -> None:
    assert service_level(14, 10.0, 180.0, 20.0) == pytest.approx(0.888, abs=0.0005)
    assert asa(14, 10.0, 180.0) == pytest.approx(7.8, abs=0.05)


def test_two_split_queues_of_five_erlangs() -> None:
    assert service_level(7, 5.0, 180.0, 20.0) == pytest.approx(0.740, abs=0.0005)


def test_more_agents_never_serve_worse() -> None:
    levels = [service_level(n, 10.0, 180.0, 20.0) for n in range(11, 30)]
    assert levels == sorted(levels)
    assert levels[-1] < 1.0


def test_an_overloaded_centre_makes_everyone_wait() -> None:
    assert erlang_c(10, 10.0) == 1.0
    assert service_level(9, 10.0, 180.0, 20.0) == 0.0
    assert math.isinf(asa(10, 12.0, 180.0))


def test_negative_inputs_are_refused() -> None:
    with pytest.raises(ValueError):
        erlang_b(-1, 1.0)
