"""Fixtures: an AgiSession wired to a fake Asterisk over a real socket pair."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import pytest

from ivr_engine.agi.session import AgiSession
from tests.unit.agi.peer import HEADERS, AsteriskPeer

Call = tuple[AgiSession, AsteriskPeer]


@pytest.fixture
async def call() -> AsyncIterator[Call]:
    """A session (command timeout 1 s) and the Asterisk peer at the other end."""
    ours, theirs = socket.socketpair()
    reader, writer = await asyncio.open_connection(sock=ours)
    peer_reader, peer_writer = await asyncio.open_connection(sock=theirs)
    session = AgiSession(HEADERS, reader, writer, command_timeout=1.0)
    yield session, AsteriskPeer(peer_reader, peer_writer)
    for end in (writer, peer_writer):
        end.close()
        with contextlib.suppress(OSError):
            await end.wait_closed()
