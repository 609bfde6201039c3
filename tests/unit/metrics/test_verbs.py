"""The verb label of an AGI command line: a fixed list, the longest verb wins."""

from __future__ import annotations

import pytest

from ivr_engine.metrics.verbs import agi_verb


@pytest.mark.parametrize(
    ("command", "verb"),
    [
        ("ANSWER", "answer"),
        ('STREAM FILE "hotline/welcome" "0123456789*#" 0', "stream_file"),
        ('GET DATA "hotline/enter-pin" 5000 6', "get_data"),
        ('GET VARIABLE "DIALSTATUS"', "get_variable"),
        ('GET FULL VARIABLE "${CALLERID(num)}"', "get_full_variable"),
        ('SET VARIABLE "IVR_RESULT" "ok"', "set_variable"),
        ('EXEC "Dial" "PJSIP/8001,15"', "exec"),
        ("WAIT FOR DIGIT 3000", "wait_for_digit"),
        ("SET MUSIC on", "set_music"),
        ('CONTROL STREAM FILE "x" ""', "control_stream_file"),
        ("channel status", "channel_status"),
        ("HANGUP", "hangup"),
        ('FOO "bar"', "other"),
        ('"STREAM FILE"', "other"),
        ("", "other"),
    ],
)
def test_verb(command: str, verb: str) -> None:
    assert agi_verb(command) == verb


def test_arguments_never_become_labels() -> None:
    verbs = {agi_verb(f'STREAM FILE "hotline/prompt-{n}" "" 0') for n in range(100)}
    assert verbs == {"stream_file"}
