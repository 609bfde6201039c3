"""An in-process AMI peer for unit tests: banner, Login, Filter, Ping, and events on demand.

Tests can also script the answer to an event-list action (``answer_list``): Asterisk's
``Response: Success`` with ``EventList: start``, one event per item carrying the action's
ActionID, then ``<Action>Complete``. A list can be held open (no Complete until
``finish_list``) or refused with ``Response: Error``. ``push_event`` sends a live event.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass
class ListAnswer:
    """How the peer answers one event-list action."""

    item_event: str
    items: list[dict[str, str | list[str]]] = field(default_factory=list)
    complete: bool = True
    error: str | None = None


class FakeAmi:
    def __init__(self, secret: str = "s3cret", answer_pings: bool = True) -> None:
        self.secret = secret
        self.answer_pings = answer_pings
        self.actions: list[dict[str, str]] = []
        self.connections = 0
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0
        self.lists: dict[str, ListAnswer] = {}
        self._held: list[tuple[str, str, int]] = []  # (action, ActionID, item count)

    async def start(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._spawn, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self.drop_all()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    def drop_all(self) -> None:
        for writer in self._writers:
            writer.close()
        self._writers.clear()

    def send_raw(self, data: bytes) -> None:
        for writer in self._writers:
            writer.write(data)

    def push_event(self, name: str, **fields: str) -> None:
        """Send a live event (no ActionID) to every connected client."""
        self.send_raw(_message({"Event": name, **fields}).encode())

    def answer_list(
        self,
        action: str,
        item_event: str,
        items: Iterable[Mapping[str, str | list[str]]] = (),
        *,
        complete: bool = True,
        error: str | None = None,
    ) -> None:
        """Answer ``action`` with ``item_event`` events for ``items``, then its Complete.

        ``complete=False`` holds the list open until ``finish_list``; ``error`` refuses the
        action with that message instead.
        """
        self.lists[action.lower()] = ListAnswer(
            item_event, [dict(item) for item in items], complete, error
        )

    def finish_list(self, action: str) -> None:
        """Send the Complete event of every held answer to ``action``."""
        still_held = []
        for name, action_id, count in self._held:
            if name.lower() == action.lower():
                self.send_raw(_complete(name, action_id, count).encode())
            else:
                still_held.append((name, action_id, count))
        self._held = still_held

    async def wait_for_action(self, action: str, timeout: float = 2.0) -> dict[str, str]:
        """The first action named ``action`` the peer received, waiting up to ``timeout``."""
        async with asyncio.timeout(timeout):
            while True:
                for seen in self.actions:
                    if seen.get("Action", "").lower() == action.lower():
                        return seen
                await asyncio.sleep(0.005)

    def _spawn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.create_task(self._serve(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                block = await reader.readuntil(b"\r\n\r\n")
                action = dict(
                    line.split(": ", 1) for line in block.decode().split("\r\n") if ": " in line
                )
                self.actions.append(action)
                reply = self._reply(action)
                if reply is not None:
                    writer.write(reply.encode())
        writer.close()

    def _reply(self, action: dict[str, str]) -> str | None:
        name = action.get("Action", "").lower()
        action_id = action.get("ActionID", "")
        if name == "login":
            ok = action.get("Secret") == self.secret
            status = "Success" if ok else "Error"
            msg = "Authentication accepted" if ok else "Authentication failed"
            return f"Response: {status}\r\nActionID: {action_id}\r\nMessage: {msg}\r\n\r\n"
        if name == "ping" and not self.answer_pings:
            return None
        if name in self.lists:
            return self._list_reply(action.get("Action", ""), action_id, self.lists[name])
        return f"Response: Success\r\nActionID: {action_id}\r\n\r\n"

    def _list_reply(self, action: str, action_id: str, answer: ListAnswer) -> str:
        if answer.error is not None:
            return _message({"Response": "Error", "ActionID": action_id, "Message": answer.error})
        parts = [
            _message(
                {
                    "Response": "Success",
                    "ActionID": action_id,
                    "EventList": "start",
                    "Message": "Items will follow",
                }
            )
        ]
        for item in answer.items:
            parts.append(_message({"Event": answer.item_event, "ActionID": action_id, **item}))
        if answer.complete:
            parts.append(_complete(action, action_id, len(answer.items)))
        else:
            self._held.append((action, action_id, len(answer.items)))
        return "".join(parts)


def _message(fields: Mapping[str, str | list[str]]) -> str:
    """One AMI message; a list value is the header written once per item (as Asterisk
    writes ChanVariable), or a garbled item that names a header twice."""
    lines = [
        f"{key}: {item}\r\n"
        for key, value in fields.items()
        for item in (value if isinstance(value, list) else [value])
    ]
    return "".join(lines) + "\r\n"


def _complete(action: str, action_id: str, count: int) -> str:
    return _message(
        {
            "Event": f"{action}Complete",
            "ActionID": action_id,
            "EventList": "Complete",
            "ListItems": str(count),
        }
    )
