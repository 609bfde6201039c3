"""The database down for 30 s, under live calls.

A second engine runs on a scratch PostgreSQL database reached through a TCP proxy the
test cuts (every connection reset, new ones refused: the database server died) and
restores 30 s later. The subscriber data, the counters, the ACD and the journal all live
in that database. While it is away:

- a call already in the menus goes on;
- a new caller is not identified (the lookup fails): the IVR's degraded path plays the
  apology and offers an agent; the ACD cannot take the call, so the queue node rings its
  ``ring`` seat (8003) through the dialplan instead, and the seat answers;
- no agent is reserved: the ACD's matching passes fail and are retried, agent 8021 stays
  available, nobody is double-booked, the engine keeps running;
- journal records wait in the writer's buffer.

After the restore every call has exactly one complete record (none lost, none twice), and
a new caller reaches 8021 through the ACD again.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import make_url

from ivr_engine.journal.query import recent_calls
from testbed.acd import AcdProbe
from testbed.observer import AmiObserver
from testbed.postgres import PostgresUnavailable, scratch_database
from testbed.proxy import proxy_in_thread
from testbed.sipp import answer_as_agent, place_call
from tests.integration.acd_calls import talk_for
from tests.integration.conftest import OtherEngine
from tests.integration.faults import (
    ZERO,
    eventually,
    live_hotline_calls,
    menu_keys,
    off_loop,
    one_finished_record_each,
)
from tests.integration.hotline import explain, heard, now, steps

pytestmark = [pytest.mark.asterisk, pytest.mark.postgres]

OUTAGE_S = 30.0
AGENT, SEAT = "8021", "8003"  # the ACD's agent; the shared pool node's ring seat
SPANNING = "18600300000"  # in the menus from before the cut until after the restore
DURING = "18600300100"  # calls during the outage, put through to the ring seat
BRIEF = "18600300200"  # calls during the outage, hangs up after the apology
AFTER = "18600300300"  # calls after the restore, reaches the agent through the ACD
APOLOGY = ["cm-backend-down", "cm-connecting-agent"]


@contextmanager
def _database() -> Iterator[str]:
    try:
        with scratch_database("ivr_faults_db") as url:
            yield url
    except PostgresUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc} (CI is set: the PostgreSQL test must run)")
        pytest.skip(str(exc))


def _journal(url: str) -> list[dict[str, Any]]:
    return asyncio.run(recent_calls(url, 100))


async def test_database_down_for_30_s_the_ivr_serves_and_nothing_is_lost(
    other_engine: OtherEngine, observer: AmiObserver
) -> None:
    with ExitStack() as stack:
        direct = stack.enter_context(_database())
        database = make_url(direct)
        proxy, loop = stack.enter_context(
            proxy_in_thread(database.host or "127.0.0.1", database.port or 5432)
        )
        proxied = database.set(port=proxy.port).render_as_string(hide_password=False)
        engine = stack.enter_context(
            other_engine(
                {"IVR_ENGINE_DATABASE__URL": proxied, "IVR_ENGINE_ACD__RECONCILE_INTERVAL": "2"}
            )
        )
        acd = AcdProbe(engine, url=direct)  # the test's own view never goes through the cut
        acd.reset()
        acd.log_in(AGENT)
        since, mark = now(), observer.mark()
        spanning = asyncio.ensure_future(
            place_call(
                SPANNING,
                "10086",
                keys=menu_keys(OUTAGE_S + 30),
                hangup_after=OUTAGE_S + 15,
                max_duration=OUTAGE_S + 30,
            )
        )
        await eventually(lambda: live_hotline_calls(engine) == 1, 30, "a call in the menus")
        await eventually(lambda: one_started(direct, SPANNING, since), 10, "its start written")

        loop.call(proxy.cut)
        cut_at = now()
        try:
            async with await answer_as_agent(SEAT, talk_for=2.0, max_duration=60) as seat:
                during, brief = await asyncio.gather(
                    place_call(DURING, "10086", max_duration=40),
                    place_call(BRIEF, "10086", hangup_after=8.0, max_duration=40),
                )
                seat_result = await seat.result(timeout=30)
            health = await off_loop(engine.health)
            assert engine.running and health is not None, engine.log_tail()
            assert health["journal"]["healthy"] is False and health["journal"]["pending"] >= 2
            await asyncio.sleep(max(0.0, OUTAGE_S - (now() - cut_at).total_seconds()))
        finally:
            loop.call(proxy.restore)
        restored_at = now()
        assert proxy.refused > 0  # the engine did try the database meanwhile

        async with await answer_as_agent(AGENT, talk_for=talk_for("general")) as phone:
            after = await place_call(AFTER, "10086", keys=[ZERO], max_duration=60)
            agent_result = await phone.result(timeout=30)
        spanned = await spanning

        # The callers: served, never cut off.
        assert during.answered and during.far_hangup, during.describe()
        assert seat_result.answered and seat_result.caller == DURING, seat_result.describe()
        assert brief.answered and brief.we_hung_up and not brief.far_hangup, brief.describe()
        assert spanned.answered and spanned.we_hung_up and not spanned.far_hangup, (
            spanned.describe()
        )
        assert after.answered and agent_result.answered, agent_result.describe()
        assert agent_result.caller == AFTER, agent_result.describe()

        # Every call journalled exactly once and complete, the outage's too.
        callers = (SPANNING, DURING, BRIEF, AFTER)
        records = await eventually(
            lambda: one_finished_record_each(_journal(direct), callers, since),
            30,
            "a finished record of each call",
        )
        for caller in (DURING, BRIEF):
            record = records[caller]
            why = explain(record, observer)
            started = datetime.fromisoformat(record["started_at"])
            assert cut_at <= started <= restored_at, why
            failed = steps(record, "lookup-failed")
            assert failed and "database error" in failed[0], why
        # The apology and the agent offer; the brief caller hung up during the apology.
        assert heard(observer, str(records[DURING]["channel"])) == APOLOGY
        assert heard(observer, str(records[BRIEF]["channel"])) == APOLOGY[:1]
        during_record = records[DURING]
        why = explain(during_record, observer)
        assert (during_record["outcome"], during_record["hangup_side"]) == ("agent", "engine"), why
        assert any(s.startswith("unavailable ") for s in steps(during_record, "acd")), why
        dials = [
            (e.get("DestChannel") or "").split("-")[0]
            for e in observer.events("DialBegin", since=mark, Channel=during_record["channel"])
        ]
        assert dials == [f"PJSIP/{SEAT}"], dials
        assert str(records[BRIEF]["outcome"]).startswith("caller-hangup"), records[BRIEF]
        spanning_record = records[SPANNING]
        assert datetime.fromisoformat(spanning_record["started_at"]) < cut_at, spanning_record
        assert datetime.fromisoformat(spanning_record["ended_at"]) > restored_at, spanning_record
        assert spanning_record["outcome"] == "caller-hangup", explain(spanning_record)
        assert steps(records[AFTER], "acd")[-1] == f"talked {AGENT}", explain(records[AFTER])
        health = await off_loop(engine.health)
        assert health is not None
        journal = health["journal"]
        assert journal["healthy"] and journal["pending"] == 0, journal
        assert journal["dropped"] == 0 and journal["rejected"] == 0 and journal["failures"] > 0

        # The ACD reserved nobody while its database was away, and 8021 only once after.
        log = await off_loop(lambda: acd.state_log(AGENT, since=since))
        reserved = [line["at"] for line in log if line["to_state"] == "reserved"]
        assert len(reserved) == 1 and reserved[0] >= restored_at, log
        assert await off_loop(acd.waiting) == []


def one_started(url: str, caller: str, since: datetime) -> bool:
    """Whether the journal holds the started (open) record of ``caller``'s call."""
    return any(
        r["caller"] == caller and datetime.fromisoformat(r["started_at"]) >= since
        for r in _journal(url)
    )
