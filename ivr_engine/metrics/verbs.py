"""The verb of an AGI command line, from a fixed list: the only label of the command
latency histogram, so its series stay few whatever the commands carry."""

from __future__ import annotations

from typing import Final

# Asterisk's AGI commands (``agi show commands``); the longest that starts the line wins.
AGI_VERBS: Final[frozenset[str]] = frozenset(
    {
        "ANSWER",
        "ASYNCAGI BREAK",
        "CHANNEL STATUS",
        "CONTROL STREAM FILE",
        "DATABASE DEL",
        "DATABASE DELTREE",
        "DATABASE GET",
        "DATABASE PUT",
        "EXEC",
        "GET DATA",
        "GET FULL VARIABLE",
        "GET OPTION",
        "GET VARIABLE",
        "GOSUB",
        "HANGUP",
        "NOOP",
        "RECEIVE CHAR",
        "RECEIVE TEXT",
        "RECORD FILE",
        "SAY ALPHA",
        "SAY DATE",
        "SAY DATETIME",
        "SAY DIGITS",
        "SAY NUMBER",
        "SAY PHONETIC",
        "SAY TIME",
        "SEND IMAGE",
        "SEND TEXT",
        "SET AUTOHANGUP",
        "SET CALLERID",
        "SET CONTEXT",
        "SET EXTENSION",
        "SET MUSIC",
        "SET PRIORITY",
        "SET VARIABLE",
        "SPEECH ACTIVATE GRAMMAR",
        "SPEECH CREATE",
        "SPEECH DEACTIVATE GRAMMAR",
        "SPEECH DESTROY",
        "SPEECH LOAD GRAMMAR",
        "SPEECH RECOGNIZE",
        "SPEECH SET",
        "SPEECH UNLOAD GRAMMAR",
        "STREAM FILE",
        "TDD MODE",
        "VERBOSE",
        "WAIT FOR DIGIT",
    }
)
_LONGEST: Final = max(len(verb.split(" ")) for verb in AGI_VERBS)
OTHER: Final = "other"
_KNOWN: dict[str, str] = {}  # command up to its first quoted argument -> its verb
_KNOWN_MAX: Final = 4096


def agi_verb(command: str) -> str:
    """``STREAM FILE "hotline/welcome" "" 0`` -> ``stream_file``; a line that starts with
    no AGI command -> ``other``."""
    head = command.partition('"')[0]
    verb = _KNOWN.get(head)
    if verb is None:
        verb = _verb(head)
        if len(_KNOWN) >= _KNOWN_MAX:
            _KNOWN.clear()
        _KNOWN[head] = verb
    return verb


def _verb(command: str) -> str:
    words = command.split(" ", _LONGEST)[:_LONGEST]
    for n in range(len(words), 0, -1):
        verb = " ".join(words[:n]).upper()
        if verb in AGI_VERBS:
            return verb.lower().replace(" ", "_")
    return OTHER
