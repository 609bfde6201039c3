"""``ivr-engine db upgrade | current | check | alembic ...`` on an empty database."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from ivr_engine.cli.main import main


@pytest.fixture
def env(empty_db_url: str) -> dict[str, str]:
    return {"IVR_ENGINE_DATABASE__URL": empty_db_url}


def db(env: dict[str, str], *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, ["db", *args], env=env)
    assert result.exit_code == code, result.output
    return result.output


def test_upgrade_current_check(env: dict[str, str]) -> None:
    assert "no revision (behind: newest is 0005)" in db(env, "current")
    assert "no revision -> 0005" in db(env, "upgrade")
    assert "already at 0005" in db(env, "upgrade")
    assert "0005 (up to date)" in db(env, "current")
    assert "agrees with the models" in db(env, "check")
    assert "ivr-dev" not in db(env, "current")  # the password in the URL is hidden


def test_check_fails_when_a_migration_is_missing(env: dict[str, str]) -> None:
    db(env, "alembic", "upgrade", "0001")
    out = db(env, "check", code=1)
    assert "add_table" in out
    assert "differs from the models" in out
    db(env, "alembic", "upgrade", "head")
    assert "0005 (up to date)" in db(env, "current")
    assert "0004 -> 0005 (head)" in db(env, "alembic", "history")
