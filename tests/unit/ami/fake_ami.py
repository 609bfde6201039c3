"""An in-process AMI peer for unit tests: banner, Login, Filter, Ping, and events on demand."""

from __future__ import annotations

import asyncio
import contextlib


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
        return f"Response: Success\r\nActionID: {action_id}\r\n\r\n"
