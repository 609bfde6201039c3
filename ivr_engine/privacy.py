"""What the engine keeps of callers' numbers and secrets in its logs and its journal.

One masking rule for every place a number is shown to people: the wallboard, the logs and
(when ``privacy.journal_numbers`` says so) the call journal: ``13900139000`` ->
``139****9000``, with ``privacy.visible_head`` / ``visible_tail`` digits left visible.

- :func:`mask_number`: one number.
- :func:`mask_text`: every number-like digit run in a text (7 to 15 digits, an optional
  ``+``) masked as a number; every card-like run (16 to 19 digits, also in groups of four
  split by spaces or dashes) replaced by stars entirely.
- :class:`LogMasking`: a logging filter, installed on the handlers by ``ivr-engine run``,
  that masks every record (message, arguments, traceback) and blanks the configured
  secrets (AMI secret, database and CRM passwords, the journal key) wherever they appear.
- :class:`JournalPrivacy`: the caller number and step texts as the journal keeps them:
  ``full``, ``masked`` (``139****9000``), or ``keyed`` (``139****9000#5f2a9c1e``: the
  masked number and a keyed hash, so reports still tell callers apart).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ivr_engine.data.numbers import normalise_number
from ivr_engine.journal.record import CallRecord, Step

if TYPE_CHECKING:
    from ivr_engine.settings import PrivacySettings, Settings

HEAD = 3
TAIL = 4
KEY_DIGITS = 8  # hex digits of the keyed hash in ``keyed`` journal numbers (32 bits)
MIN_SECRET = 4  # shorter configured values are not hunted for in log text

# Digit runs that stand alone: not part of a word (hex ids) and not part of a decimal
# number (Asterisk's unique ids are "1700000000.42"); after a word and a dash they are a
# channel's sequence ("PJSIP/callers-00000001"), after digits and a dash a phone number's
# local part ("010-12345678").
_EDGE_BEFORE = r"(?<![\w.+])(?<![A-Za-z]-)"
_EDGE_AFTER = r"(?![\w]|\.\d)"
_CARD = re.compile(
    _EDGE_BEFORE + r"(?:\d{16,19}|\d{4}(?:[ -]\d{4}){3}(?:[ -]?\d{1,3})?)" + _EDGE_AFTER
)
_NUMBER = re.compile(_EDGE_BEFORE + r"\+?\d{7,15}" + _EDGE_AFTER)


def mask_number(number: str, head: int = HEAD, tail: int = TAIL) -> str:
    """A number fit for people to see: ``13900139000`` -> ``139****9000``.

    At least one digit is always hidden: a number too short to keep ``head`` and ``tail``
    keeps its last ``tail`` digits only, and one of ``tail`` digits or fewer is unchanged
    (extensions, short codes)."""
    if len(number) > head + tail:
        return number[:head] + "*" * (len(number) - head - tail) + number[len(number) - tail :]
    if len(number) > tail:
        return "*" * (len(number) - tail) + number[len(number) - tail :]
    return number


def mask_cards(text: str) -> str:
    """Every card-like digit run in ``text`` replaced by stars (separators kept)."""
    return _CARD.sub(lambda m: re.sub(r"\d", "*", m.group()), text)


def mask_text(text: str, head: int = HEAD, tail: int = TAIL, *, numbers: bool = True) -> str:
    """Card-like runs starred entirely; with ``numbers``, number-like runs masked."""
    text = mask_cards(text)
    if numbers:
        text = _NUMBER.sub(lambda m: _mask_run(m.group(), head, tail), text)
    return text


def _mask_run(run: str, head: int, tail: int) -> str:
    if run.startswith("+"):
        return "+" + mask_number(run[1:], head, tail)
    return mask_number(run, head, tail)


def settings_secrets(settings: Settings) -> list[str]:
    """The secret values in the settings: the AMI secret, the passwords of the database
    URLs (engine and subscriber data), the CRM token and the journal's number key."""
    values = [
        settings.ami.secret.get_secret_value(),
        settings.backend.token.get_secret_value(),
        settings.privacy.number_key.get_secret_value(),
    ]
    for url in (settings.database.url, settings.backend.url):
        values.append(url_password(url) if url else "")
    return [value for value in values if len(value) >= MIN_SECRET]


def url_password(url: str) -> str:
    """The password in a URL (SQLAlchemy or HTTP), "" when it has none."""
    try:
        return make_url(url).password or ""
    except ArgumentError:
        return ""


def shown_url(url: str) -> str:
    """A URL fit for a log line: its password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<a URL that cannot be read>"


class LogMasking(logging.Filter):
    """Masks every record that passes: the message with its arguments, and a traceback.

    ``numbers``: mask number-like digit runs (card-like runs are always starred);
    ``secrets``: values blanked wherever they appear (``***``). Put it on the handlers, not
    on a logger: a logger's filters never see the records of its children."""

    def __init__(
        self,
        *,
        numbers: bool = True,
        head: int = HEAD,
        tail: int = TAIL,
        secrets: Iterable[str] = (),
    ) -> None:
        super().__init__("privacy")
        self.numbers = numbers
        self.head = head
        self.tail = tail
        # Longest first: a secret containing another is blanked whole.
        self.secrets = sorted({s for s in secrets if len(s) >= MIN_SECRET}, key=len, reverse=True)

    def text(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return mask_text(text, self.head, self.tail, numbers=self.numbers)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what can be kept, masked
            message = f"{record.msg!s} {record.args!r}"
        record.msg = self.text(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.text(record.exc_text)
        if record.stack_info:
            record.stack_info = self.text(record.stack_info)
        return True


def log_masking(settings: Settings) -> LogMasking:
    privacy = settings.privacy
    return LogMasking(
        numbers=privacy.mask_numbers_in_logs,
        head=privacy.visible_head,
        tail=privacy.visible_tail,
        secrets=settings_secrets(settings),
    )


def install_log_masking(settings: Settings, logger: logging.Logger | None = None) -> LogMasking:
    """Put the settings' :class:`LogMasking` on every handler of ``logger`` (the root)."""
    masking = log_masking(settings)
    for handler in (logger or logging.getLogger()).handlers:
        for old in [f for f in handler.filters if isinstance(f, LogMasking)]:
            handler.removeFilter(old)
        handler.addFilter(masking)
    return masking


@dataclass(frozen=True)
class JournalPrivacy:
    """How the journal keeps numbers: ``full``, ``masked`` or ``keyed`` (see the module)."""

    mode: str = "full"
    head: int = HEAD
    tail: int = TAIL
    key: bytes = b""

    @classmethod
    def from_settings(cls, privacy: PrivacySettings) -> JournalPrivacy:
        return cls(
            privacy.journal_numbers,
            privacy.visible_head,
            privacy.visible_tail,
            privacy.number_key.get_secret_value().encode(),
        )

    def caller(self, number: str) -> str:
        """The calling number as the journal keeps it."""
        if self.mode == "full" or not number:
            return number
        masked = mask_number(number, self.head, self.tail)
        if self.mode == "keyed" and masked != number:
            return f"{masked}#{self.number_key(number)}"
        return masked

    def number_key(self, number: str) -> str:
        """A keyed hash of the number (the same for +86 and national forms)."""
        national = normalise_number(number).encode()
        return hmac.new(self.key, national, hashlib.sha256).hexdigest()[:KEY_DIGITS]

    def text(self, text: str) -> str:
        """A step's text as the journal keeps it: card-like runs always starred, numbers
        masked unless the journal keeps numbers in full."""
        return mask_text(text, self.head, self.tail, numbers=self.mode != "full")


FULL = JournalPrivacy()


@dataclass(kw_only=True)
class ScrubbedCallRecord(CallRecord):
    """A journal record whose steps and keys pass through ``scrub`` as they are added."""

    scrub: Callable[[str], str] = field(default=mask_cards, repr=False, compare=False)

    def add_step(self, kind: str, detail: str = "", at: datetime | None = None) -> Step:
        return super().add_step(kind, self.scrub(detail), at)

    def add_keys(self, keys: str, at: datetime | None = None) -> None:
        super().add_keys(self.scrub(keys), at)


def journal_record(privacy: JournalPrivacy, *, caller: str, **fields: Any) -> CallRecord:
    """A new call's journal record that keeps numbers and texts as ``privacy`` says."""
    return ScrubbedCallRecord(caller=privacy.caller(caller), scrub=privacy.text, **fields)
