"""Masking numbers and cards, blanking secrets in log lines, the journal's forms of a number,
and the settings that drive them."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from ivr_engine.privacy import (
    JournalPrivacy,
    LogMasking,
    install_log_masking,
    mask_number,
    mask_text,
    settings_secrets,
    shown_url,
)
from ivr_engine.settings import SettingsError, load_settings
from ivr_engine.wallboard.snapshot import mask_number as wallboard_mask


def test_a_number_keeps_its_head_and_tail() -> None:
    assert mask_number("13900139000") == "139****9000"
    assert mask_number("01012345678") == "010****5678"
    assert mask_number("12345678") == "123*5678"
    assert mask_number("1234567") == "***4567"  # too short for head and tail: tail only
    assert mask_number("8001") == "8001"  # extensions and short codes stay
    assert mask_number("13900139000", head=0, tail=2) == "*********00"
    assert mask_number("13900139000", head=2, tail=0) == "13*********"
    assert wallboard_mask is mask_number  # the wallboard shows numbers the same way


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call from 13900139000 to 10086", "call from 139****9000 to 10086"),
        ("caller=+8613900139000.", "caller=+861******9000."),
        ("PJSIP/13800138000@pstn", "PJSIP/138****8000@pstn"),
        ("card 1234567890123456 used", "card **************** used"),
        ("card 6222-0212-3456-7890 used", "card ****-****-****-**** used"),
        ("pin 1234567890123456789", "pin *******************"),
        # not numbers: Asterisk unique ids, hex ids, channel names, times, ports, small counts
        ("uniqueid 1700000000.42", "uniqueid 1700000000.42"),
        ("call 3f2a9c1e13900139000ab", "call 3f2a9c1e13900139000ab"),
        ("PJSIP/callers-00000001", "PJSIP/callers-00000001"),
        ("2026-11-23 12:00:00,123 port 4573 took 1500 ms", None),
    ],
)
def test_number_and_card_runs_in_a_text(text: str, expected: str | None) -> None:
    assert mask_text(text) == (text if expected is None else expected)


def test_cards_are_starred_even_when_numbers_are_shown() -> None:
    text = "from 13900139000 card 1234567890123456"
    assert mask_text(text, numbers=False) == "from 13900139000 card ****************"


def _logger(masking: LogMasking) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(masking)
    logger = logging.getLogger(f"tests.privacy.{id(masking)}")
    logger.propagate = False
    logger.handlers = [handler]
    logger.setLevel(logging.DEBUG)
    return logger, out


def test_log_records_are_masked_in_message_arguments_and_traceback() -> None:
    logger, out = _logger(LogMasking(secrets=["Tr0ub4dor&3", "xy"]))
    logger.info("call from %s, card %s", "13900139000", "1234567890123456")
    logger.warning("AMI login as ivr with Tr0ub4dor&3 refused")
    try:
        raise ValueError("lookup of 13800138000 failed (secret Tr0ub4dor&3)")
    except ValueError:
        logger.exception("lookup failed")
    logger.info("short secrets are not hunted: xy stays")
    text = out.getvalue()
    for leaked in ("13900139000", "1234567890123456", "13800138000", "Tr0ub4dor&3"):
        assert leaked not in text
    assert "call from 139****9000, card ****************" in text
    assert "with *** refused" in text
    assert "ValueError: lookup of 138****8000 failed (secret ***)" in text
    assert "xy stays" in text


def test_numbers_are_shown_when_the_setting_is_off() -> None:
    logger, out = _logger(LogMasking(numbers=False))
    logger.info("call from %s, card %s", "13900139000", "1234567890123456")
    assert out.getvalue() == "call from 13900139000, card ****************\n"


def test_a_bad_format_string_is_still_logged_masked() -> None:
    logger, out = _logger(LogMasking())
    logger.info("two args %s %s", "13900139000")
    assert "13900139000" not in out.getvalue()
    assert "139****9000" in out.getvalue()


@pytest.fixture
def root_handler() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield out
    finally:
        root.removeHandler(handler)


def test_the_engine_masks_every_logger_through_the_root_handlers(
    root_handler: io.StringIO,
) -> None:
    settings = load_settings(
        environ={
            "IVR_ENGINE_AMI__SECRET": "ami-Secret-4711",
            "IVR_ENGINE_DATABASE__URL": "postgresql+asyncpg://ivr:Db-Pass-0815@db.example/ivr",
            "IVR_ENGINE_BACKEND__TOKEN": "crm-Token-2342",
        }
    )
    assert set(settings_secrets(settings)) == {"ami-Secret-4711", "Db-Pass-0815", "crm-Token-2342"}
    masking = install_log_masking(settings)
    try:
        install_log_masking(settings)  # installing again replaces, never stacks
        root = logging.getLogger()
        assert sum(isinstance(f, LogMasking) for h in root.handlers for f in h.filters) == len(
            root.handlers
        )
        child = logging.getLogger("ivr_engine.some.part")
        child.setLevel(logging.INFO)
        child.info("caller 13900139000 secret ami-Secret-4711 url %s", settings.database.url)
    finally:
        for handler in logging.getLogger().handlers:
            for found in [f for f in handler.filters if isinstance(f, LogMasking)]:
                handler.removeFilter(found)
    text = root_handler.getvalue()
    assert "caller 139****9000 secret ***" in text
    for secret in ("ami-Secret-4711", "Db-Pass-0815", "13900139000"):
        assert secret not in text
    assert masking.numbers


def test_shown_urls_hide_their_password() -> None:
    assert shown_url("postgresql+asyncpg://ivr:Db-Pass-0815@db/ivr") == (
        "postgresql+asyncpg://ivr:***@db/ivr"
    )
    assert shown_url("sqlite+aiosqlite:///var/x.db") == "sqlite+aiosqlite:///var/x.db"
    assert "Db-Pass" not in shown_url("not a url Db-Pass-0815")


def test_journal_forms_of_a_number() -> None:
    assert JournalPrivacy().caller("13900139000") == "13900139000"
    assert JournalPrivacy("masked").caller("13900139000") == "139****9000"
    keyed = JournalPrivacy("keyed", key=b"k" * 16)
    one, other = keyed.caller("13900139000"), keyed.caller("13900129000")
    assert one.startswith("139****9000#") and len(one) == len("139****9000#") + 8
    assert one != other  # same visible digits, still told apart
    assert keyed.caller("+8613900139000").endswith(one[-9:])  # +86: the same caller
    assert JournalPrivacy("keyed", key=b"j" * 16).caller("13900139000") != one  # keyed
    assert keyed.caller("8001") == "8001" and keyed.caller("") == ""
    assert JournalPrivacy().text("to 13900139000 card 1234567890123456") == (
        "to 13900139000 card ****************"
    )
    assert JournalPrivacy("masked").text("to 13900139000") == "to 139****9000"


def test_privacy_settings_are_checked() -> None:
    settings = load_settings(environ={"IVR_ENGINE_PRIVACY__JOURNAL_NUMBERS": "masked"})
    assert settings.privacy.journal_numbers == "masked"
    with pytest.raises(SettingsError, match="number_key"):
        load_settings(environ={"IVR_ENGINE_PRIVACY__JOURNAL_NUMBERS": "keyed"})
    with pytest.raises(SettingsError, match="journal_numbers"):
        load_settings(environ={"IVR_ENGINE_PRIVACY__JOURNAL_NUMBERS": "partly"})
    keyed = load_settings(
        environ={
            "IVR_ENGINE_PRIVACY__JOURNAL_NUMBERS": "keyed",
            "IVR_ENGINE_PRIVACY__NUMBER_KEY": "a-key-of-sixteen-or-more",
        }
    )
    assert "a-key-of-sixteen-or-more" not in repr(keyed)
    nuisance = load_settings(environ={"IVR_ENGINE_NUISANCE__EXEMPT": "10086, 13800138000"})
    assert nuisance.nuisance.exempt == ["10086", "13800138000"]


def test_a_yaml_error_in_the_settings_does_not_quote_the_file(tmp_path: Path) -> None:
    path = tmp_path / "engine.yaml"
    path.write_text("ami:\n  secret: Very-Secret-1234: [\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(path, environ={})
    assert "Very-Secret-1234" not in str(caught.value)
    assert "line 2" in str(caught.value)
