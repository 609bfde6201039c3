"""A queue's day as a figure: the service level of its tally, in percent (the wallboard's,
``GET /queues``) and as a ratio (``/metrics``), and none while no call counts."""

from __future__ import annotations

from acd.figures import QueueDay, Today


def test_the_service_level_is_the_tally_in_percent_to_a_tenth_or_as_a_ratio() -> None:
    day = QueueDay(answered=2, abandoned=2, short_abandoned=1, within=2, counted=3)
    assert day.service_level_pct == 66.7
    assert day.service_level_ratio == 2 / 3


def test_no_call_counted_gives_no_service_level_rather_than_zero() -> None:
    only_short = QueueDay(abandoned=1, short_abandoned=1)
    assert (only_short.service_level_pct, only_short.service_level_ratio) == (None, None)
    nothing_late = QueueDay(answered=1, counted=1)
    assert (nothing_late.service_level_pct, nothing_late.service_level_ratio) == (0.0, 0.0)


def test_queues_together_add_their_tallies_not_their_figures() -> None:
    today = Today({"general": QueueDay(1, 0, 0, 1, 1), "billing": QueueDay(3, 0, 0, 0, 3)})
    assert today.total.service_level_ratio == 1 / 4  # not the mean of 1 and 0
    assert today.of("vip") == QueueDay()
