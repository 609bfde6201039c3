"""An independent observer of the Asterisk test bed over AMI, built on pyst2's manager.

The engine talks to Asterisk through its own asyncio AMI client; tests must not trust that
client to tell them what happened. This observer is a second, unrelated AMI connection
(pyst2's synchronous ``asterisk.manager``, which runs its own reader and dispatch threads)
that records every event it sees, so that tests can assert on Asterisk's own account of a
call: the UserEvents a dialplan raised, the applications it ran (``Newexten``: Application
and AppData), the AGI commands the engine sent (``AGIExecStart``: CommandLine), how a Dial
ended (``DialEnd``: DialStatus), and how each channel hung up (``Hangup``: Cause).

It logs in with the engine's own AMI user from ``ivr_engine.settings.load_settings()``.
pyst2's actions have no timeout and match responses by order, so every action here goes
through one lock and a watchdog thread.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from asterisk.manager import Manager, ManagerException  # pyst2

from ivr_engine.settings import Settings, load_settings


class _Manager(Manager):  # type: ignore[misc]  # pyst2 has no type information
    """pyst2's Manager without its ``__del__``: it would log off again at garbage collection
    (after close() already did), from whichever test happens to run then."""

    def __del__(self) -> None:
        pass


class ObserverError(Exception):
    """The observer could not connect, log in, or get an answer in time."""


@dataclass(frozen=True)
class AmiEvent:
    """One AMI event as the observer received it."""

    index: int  # position in the observer's record, from 0
    name: str
    headers: Mapping[str, str]
    received: float  # time.monotonic() when it arrived

    def get(self, header: str, default: str | None = None) -> str | None:
        return self.headers.get(header, default)

    def __getitem__(self, header: str) -> str:
        return self.headers[header]

    def matches(self, name: str | None = None, **headers: str) -> bool:
        if name is not None and self.name != name:
            return False
        return all(self.headers.get(key) == value for key, value in headers.items())

    def __str__(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.headers.items() if k != "Event")
        return f"{self.name}({shown})"


def _run_with_timeout(what: str, timeout: float, function: Callable[[], Any]) -> Any:
    """Run a blocking pyst2 call in a helper thread; give up after ``timeout`` seconds."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = function()
        except BaseException as exc:  # handed to the caller below
            outcome["error"] = exc

    worker = threading.Thread(target=target, name=f"ami-observer {what}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise ObserverError(f"AMI {what}: no answer within {timeout} s")
    if "error" in outcome:
        error = outcome["error"]
        raise ObserverError(f"AMI {what} failed: {error}") from error
    return outcome.get("value")


class AmiObserver:
    """Records every AMI event of the test bed; use as a context manager or call close()."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        action_timeout: float = 10.0,
    ) -> None:
        self.settings = settings if settings is not None else load_settings()
        self.action_timeout = action_timeout
        self._events: list[AmiEvent] = []
        self._floor = 0  # events before this index were cleared
        self._condition = threading.Condition()
        self._action_lock = threading.Lock()
        self._manager: Any = None

    # --- Connection -----------------------------------------------------------------------

    def connect(self) -> AmiObserver:
        ami = self.settings.ami
        host = "127.0.0.1" if ami.host in ("0.0.0.0", "") else ami.host
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            manager = _Manager()
        manager.register_event("*", self._on_event)
        with self._action_lock:
            _run_with_timeout(
                f"connect to {host}:{ami.port}",
                self.action_timeout,
                lambda: manager.connect(host, ami.port),
            )
            self._manager = manager
            try:
                _run_with_timeout(
                    f"login as {ami.username}",
                    self.action_timeout,
                    lambda: manager.login(ami.username, ami.secret.get_secret_value()),
                )
            except ObserverError:
                self._abandon()
                raise
        return self

    def close(self) -> None:
        manager, self._manager = self._manager, None
        if manager is None:
            return
        try:
            with self._action_lock:
                _run_with_timeout("logoff", 5.0, manager.close)
        except ObserverError:
            self._manager = manager
            self._abandon()

    def _abandon(self) -> None:
        """Drop a connection that no longer answers (its daemon threads die with the process)."""
        manager, self._manager = self._manager, None
        if manager is None:
            return
        manager._running.clear()
        manager._connected.clear()
        manager._message_queue.put(None)

    def __enter__(self) -> AmiObserver:
        return self.connect() if self._manager is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connected(self) -> bool:
        return self._manager is not None and bool(self._manager.connected())

    # --- Events ---------------------------------------------------------------------------

    def _on_event(self, event: Any, manager: Any) -> None:
        headers = {str(k): str(v) for k, v in dict(event.headers).items()}
        with self._condition:
            self._events.append(
                AmiEvent(
                    index=len(self._events),
                    name=str(event.name),
                    headers=headers,
                    received=time.monotonic(),
                )
            )
            self._condition.notify_all()

    def mark(self) -> int:
        """The index the next event will get: pass it as ``since`` to look only after now."""
        with self._condition:
            return len(self._events)

    def clear(self) -> None:
        """Ignore the events seen so far from now on (indexes keep counting up)."""
        with self._condition:
            self._floor = len(self._events)

    def events(self, name: str | None = None, *, since: int = 0, **headers: str) -> list[AmiEvent]:
        """Events seen so far, optionally only those named ``name`` with these header values."""
        with self._condition:
            snapshot = self._events[max(since, self._floor) :]
        return [e for e in snapshot if e.matches(name, **headers)]

    def wait_for(
        self,
        predicate: Callable[[AmiEvent], bool],
        timeout: float = 10.0,
        *,
        since: int = 0,
        description: str = "",
    ) -> AmiEvent:
        """The first event (from index ``since``) for which ``predicate`` is true.

        Waits up to ``timeout`` seconds for it; raises ObserverError (listing the events
        that did arrive) when none comes.
        """
        deadline = time.monotonic() + timeout
        with self._condition:
            since = position = max(since, self._floor)
            while True:
                while position < len(self._events):
                    event = self._events[position]
                    position += 1
                    if predicate(event):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._condition.wait(remaining)
            seen = [str(e) for e in self._events[since:]][-30:]
        what = description or getattr(predicate, "__name__", "predicate")
        raise ObserverError(
            f"no AMI event matching {what} within {timeout} s; last events:\n  " + "\n  ".join(seen)
        )

    def wait_for_event(
        self, name: str, timeout: float = 10.0, *, since: int = 0, **headers: str
    ) -> AmiEvent:
        """The first event named ``name`` with these exact header values."""
        shown = ", ".join(f"{k}={v}" for k, v in headers.items())
        return self.wait_for(
            lambda e: e.matches(name, **headers),
            timeout,
            since=since,
            description=f"{name}({shown})",
        )

    async def wait_for_async(
        self,
        predicate: Callable[[AmiEvent], bool],
        timeout: float = 10.0,
        *,
        since: int = 0,
        description: str = "",
    ) -> AmiEvent:
        """:meth:`wait_for` without blocking the event loop (runs in a worker thread)."""
        return await asyncio.to_thread(
            self.wait_for, predicate, timeout, since=since, description=description
        )

    async def wait_for_event_async(
        self, name: str, timeout: float = 10.0, *, since: int = 0, **headers: str
    ) -> AmiEvent:
        return await asyncio.to_thread(
            lambda: self.wait_for_event(name, timeout, since=since, **headers)
        )

    # --- What happened to a call ----------------------------------------------------------

    def channels_of_caller(self, caller: str, *, since: int = 0) -> list[str]:
        """Channels created for calls from ``caller`` (Newchannel CallerIDNum), in order."""
        return list(
            dict.fromkeys(
                e["Channel"] for e in self.events("Newchannel", since=since, CallerIDNum=caller)
            )
        )

    def applications(self, channel: str, *, since: int = 0) -> list[tuple[str, str]]:
        """(Application, AppData) of every dialplan step the channel ran (Newexten)."""
        return [
            (e.get("Application") or "", e.get("AppData") or "")
            for e in self.events("Newexten", since=since, Channel=channel)
        ]

    def agi_commands(self, channel: str, *, since: int = 0) -> list[str]:
        """The AGI command lines run on the channel (AGIExecStart's Command header)."""
        return [
            e.get("Command") or ""
            for e in self.events("AGIExecStart", since=since, Channel=channel)
        ]

    def hangup(self, channel: str, timeout: float = 10.0, *, since: int = 0) -> AmiEvent:
        """The channel's Hangup event (Cause, Cause-txt), waiting for it if need be.

        Asterisk 22 reports Cause 16 (Normal Clearing) when the dialplan or the engine hung
        up, and Cause 0 (Unknown) when the SIP side's BYE ended the channel; use
        :meth:`far_end_hung_up` to tell the two apart.
        """
        return self.wait_for_event("Hangup", timeout, since=since, Channel=channel)

    def far_end_hung_up(self, channel: str, *, since: int = 0) -> bool:
        """Whether the channel's own side (the SIP phone) hung up, not Asterisk.

        The channel driver queues a hangup when the phone sends BYE or CANCEL, and AMI shows
        that as a HangupRequest event; a dialplan Hangup() or an AGI HANGUP does not.
        """
        return bool(self.events("HangupRequest", since=since, Channel=channel))

    # --- Actions --------------------------------------------------------------------------

    def action(self, fields: Mapping[str, str], timeout: float | None = None) -> Any:
        """Send one AMI action; return pyst2's response message."""
        manager = self._manager
        if manager is None:
            raise ObserverError("not connected")
        with self._action_lock:
            try:
                return _run_with_timeout(
                    f"action {fields.get('Action')}",
                    timeout or self.action_timeout,
                    lambda: manager.send_action(dict(fields)),
                )
            except ObserverError:
                self._abandon()  # responses are matched by order: this connection is done
                raise

    def command(self, cli: str, timeout: float | None = None) -> str:
        """Run an Asterisk CLI command through the AMI Command action; return its output."""
        response = self.action({"Action": "Command", "Command": cli}, timeout)
        if response.get_header("Response") == "Error":
            raise ObserverError(f"Command {cli!r}: {response.get_header('Message')}")
        lines: list[str] = []
        for raw in response.response:
            line = raw.rstrip("\r\n")
            match = re.match(r"^Output: ?(.*)$", line)
            if match:
                lines.append(match.group(1))
            elif line.endswith("--END COMMAND--"):
                lines.append(line[: -len("--END COMMAND--")])
        return "\n".join(lines).rstrip("\n")


__all__ = ["AmiEvent", "AmiObserver", "ManagerException", "ObserverError"]
