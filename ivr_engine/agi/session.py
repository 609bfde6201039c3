"""One call's FastAGI connection: typed commands, hang-up detection, a trace per command."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping

from ivr_engine.agi.errors import (
    AgiCommandError,
    AgiError,
    AgiProtocolError,
    AgiTimeout,
    CallerHangup,
)
from ivr_engine.agi.metrics import NO_METRICS, AgiMetrics, CommandTrace
from ivr_engine.agi.protocol import (
    DTMF_DIGITS,
    AgiReply,
    decode_line,
    dtmf_from_result,
    finish_reply,
    parse_reply,
    quote,
    result_int,
)

log = logging.getLogger(__name__)


Observer = Callable[[CommandTrace], None]


class AgiSession:
    """One call: commands run one at a time, each with a timeout.

    After CallerHangup every command raises CallerHangup without writing; after a timeout,
    a garbled reply or a cancelled command the replies may be out of step, so the session
    is broken and every command raises AgiError without writing.
    """

    def __init__(
        self,
        headers: Mapping[str, str],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        command_timeout: float,
        observer: Observer | None = None,
        metrics: AgiMetrics = NO_METRICS,
    ) -> None:
        self._headers = dict(headers)
        self._reader = reader
        self._writer = writer
        self._command_timeout = command_timeout
        self.observer = observer
        self._metrics = metrics
        self._lock = asyncio.Lock()
        self._hung_up = False
        self._broken: str | None = None
        # The deadline of the command in flight, watched by one timer per session that is
        # moved only when a command needs an earlier one (most commands arm nothing).
        self._deadline: float | None = None
        self._limit = command_timeout
        self._timer: asyncio.TimerHandle | None = None

    # -- call data -------------------------------------------------------------------------

    @property
    def headers(self) -> dict[str, str]:
        return dict(self._headers)

    @property
    def network_script(self) -> str:
        """The path after the host in ``agi://host:port/PATH``."""
        return self._headers.get("agi_network_script", "")

    @property
    def caller(self) -> str:
        value = self._headers.get("agi_callerid", "")
        return "" if value == "unknown" else value

    @property
    def dialled(self) -> str:
        return self._headers.get("agi_extension", "")

    @property
    def dnid(self) -> str:
        value = self._headers.get("agi_dnid", "")
        return "" if value == "unknown" else value

    @property
    def channel(self) -> str:
        return self._headers.get("agi_channel", "")

    @property
    def unique_id(self) -> str:
        return self._headers.get("agi_uniqueid", "")

    @property
    def arguments(self) -> list[str]:
        args: list[str] = []
        while (value := self._headers.get(f"agi_arg_{len(args) + 1}")) is not None:
            args.append(value)
        return args

    @property
    def hung_up(self) -> bool:
        return self._hung_up

    @property
    def broken(self) -> bool:
        return self._broken is not None

    @property
    def usable(self) -> bool:
        """True while commands can still be sent."""
        return not self._hung_up and self._broken is None

    # -- commands --------------------------------------------------------------------------

    async def answer(self, *, timeout: float | None = None) -> None:
        await self._media("ANSWER", timeout)

    async def stream_file(
        self, name: str, escape_digits: str = "", offset: int = 0, *, timeout: float | None = None
    ) -> str | None:
        """Play a sound file; return the escape digit pressed, or None."""
        command = f"STREAM FILE {quote(name)} {quote(escape_digits)} {int(offset)}"
        return self._digit(await self._media(command, timeout))

    async def get_data(
        self, prompt: str, timeout_ms: int, max_digits: int, *, timeout: float | None = None
    ) -> tuple[str, bool]:
        """Play a prompt and collect digits; return (digits, timed_out)."""
        command = f"GET DATA {quote(prompt)} {int(timeout_ms)} {int(max_digits)}"
        reply = await self._media(command, timeout)
        if any(char not in DTMF_DIGITS for char in reply.result):
            self._metrics.error("agi_protocol")
            raise AgiProtocolError("garbage", f"GET DATA result is not digits: {reply.raw!r}")
        return reply.result, reply.data == "timeout"

    async def wait_for_digit(self, timeout_ms: int, *, timeout: float | None = None) -> str | None:
        return self._digit(await self._media(f"WAIT FOR DIGIT {int(timeout_ms)}", timeout))

    async def say_digits(
        self, digits: str, escape_digits: str = "", *, timeout: float | None = None
    ) -> str | None:
        command = f"SAY DIGITS {quote(digits)} {quote(escape_digits)}"
        return self._digit(await self._media(command, timeout))

    async def say_number(
        self,
        number: int,
        escape_digits: str = "",
        gender: str | None = None,
        *,
        timeout: float | None = None,
    ) -> str | None:
        command = f"SAY NUMBER {int(number)} {quote(escape_digits)}"
        if gender:
            command += f" {quote(gender)}"
        return self._digit(await self._media(command, timeout))

    async def get_variable(self, name: str, *, timeout: float | None = None) -> str | None:
        return _variable(await self.command(f"GET VARIABLE {quote(name)}", timeout=timeout))

    async def variable_after_hangup(self, name: str, *, timeout: float = 2.0) -> str | None:
        """Read a channel variable once the caller has hung up (``DIALSTATUS`` of the Dial
        the hang-up ended): Asterisk keeps answering GET VARIABLE on a dead channel until
        the AGI script ends. None when the connection is gone too."""
        if self._broken is not None:
            return None
        try:
            await self._lock.acquire()
            try:
                reply = await self._exchange(f"GET VARIABLE {quote(name)}", timeout)
            finally:
                self._lock.release()
        except (CallerHangup, AgiError, OSError):
            return None
        return _variable(reply) if reply.code == 200 else None

    async def get_full_variable(self, expr: str, *, timeout: float | None = None) -> str | None:
        return _variable(await self.command(f"GET FULL VARIABLE {quote(expr)}", timeout=timeout))

    async def set_variable(self, name: str, value: str, *, timeout: float | None = None) -> None:
        await self.command(f"SET VARIABLE {quote(name)} {quote(value)}", timeout=timeout)

    async def exec(self, application: str, *args: str, timeout: float | None = None) -> int:
        """Run a dialplan application; return its result (-2 means it does not exist)."""
        reply = await self._media(f"EXEC {quote(application)} {quote(','.join(args))}", timeout)
        try:
            result = result_int(reply)
        except AgiProtocolError:
            self._metrics.error("agi_protocol")
            raise
        if result == -2:
            raise AgiCommandError(200, f"application {application!r} not found")
        return result

    async def hangup(self, *, timeout: float | None = None) -> None:
        await self.command("HANGUP", timeout=timeout)

    async def verbose(self, message: str, level: int = 1, *, timeout: float | None = None) -> None:
        await self.command(f"VERBOSE {quote(message)} {int(level)}", timeout=timeout)

    async def set_music(
        self, on: bool, music_class: str | None = None, *, timeout: float | None = None
    ) -> None:
        command = f"SET MUSIC {'on' if on else 'off'}"
        if music_class:
            command += f" {quote(music_class)}"
        await self.command(command, timeout=timeout)

    async def command(self, command: str, *, timeout: float | None = None) -> AgiReply:
        """Send one raw command line; return its ``200`` reply, raise on any other code."""
        await self._lock.acquire()
        try:
            return await self._command(command, timeout)
        finally:
            self._lock.release()

    # -- internals -------------------------------------------------------------------------

    async def _media(self, command: str, timeout: float | None) -> AgiReply:
        """Run a command whose ``-1`` result means "hang-up or failure", and tell which."""
        await self._lock.acquire()
        try:
            reply = await self._command(command, timeout)
            if reply.data == "hangup":
                self._hung_up = True
            elif reply.result != "-1":
                return reply
            elif not self._hung_up:
                # Ambiguous: probe. A dead channel answers 511 (and/or sends HANGUP first).
                await self._command("CHANNEL STATUS", None)
            if self._hung_up:
                raise CallerHangup(f"caller hung up during {command.split(' ')[0]}")
            raise AgiCommandError(200, f"{command} failed on a live channel: {reply.raw}")
        finally:
            self._lock.release()

    async def _command(self, command: str, timeout: float | None) -> AgiReply:
        if self._hung_up:
            raise CallerHangup("caller already hung up")
        if self._broken is not None:
            raise AgiError(f"session unusable after {self._broken}")
        if "\n" in command or "\r" in command:
            raise ValueError("an AGI command is a single line")
        started = time.monotonic()
        limit = self._command_timeout if timeout is None else timeout
        reply: AgiReply | None = None
        error: str | None = None
        error_type: type[BaseException] | None = None
        try:
            reply = await self._exchange(command, limit)
            return self._check(reply)
        except BaseException as exc:
            error, error_type = f"{type(exc).__name__}: {exc}", type(exc)
            raise
        finally:
            duration = time.monotonic() - started
            self._trace(CommandTrace(command, reply, started, duration, error, error_type))

    async def _exchange(self, command: str, timeout: float) -> AgiReply:
        """Write one command and read its reply, all within one deadline."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self._expect(loop, deadline, timeout)
        writer, reader = self._writer, self._reader
        try:
            writer.write(command.encode("utf-8") + b"\n")
            if writer.transport.get_write_buffer_size():  # the socket took not all of it
                await self._drain(deadline, timeout)
            try:
                line = decode_line(await reader.readuntil(b"\n"))
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                raise CallerHangup("Asterisk closed the AGI connection") from exc
            except asyncio.LimitOverrunError as exc:
                raise AgiProtocolError("oversized", "line longer than the stream limit") from exc
            # The usual reply is one line: parse it here; anything else reads on.
            hangup = False
            if line.startswith("200 "):
                reply = parse_reply(line)
            else:
                reply, hangup = await finish_reply(reader, line)
            if reader.exception() is not None:  # the deadline passed as it came
                raise AgiTimeout(f"no reply within {timeout:g} s")
        except (AgiTimeout, AgiProtocolError, asyncio.CancelledError) as exc:
            self._broken = f"{type(exc).__name__} during {command.split(' ')[0]}"
            raise
        except CallerHangup:
            self._hung_up = True
            raise
        except ConnectionError as exc:
            self._hung_up = True
            raise CallerHangup("the AGI connection was lost") from exc
        finally:
            self._deadline = None
        if hangup:
            self._hung_up = True
        return reply

    async def _drain(self, deadline: float, timeout: float) -> None:
        try:
            async with asyncio.timeout_at(deadline):
                await self._writer.drain()
        except TimeoutError as exc:
            raise AgiTimeout(f"could not send the command within {timeout:g} s") from exc

    def _expect(self, loop: asyncio.AbstractEventLoop, deadline: float, timeout: float) -> None:
        """Watch ``deadline`` for the command now sent; the reply must come before it."""
        self._deadline = deadline
        self._limit = timeout
        timer = self._timer
        if timer is None or timer.when() > deadline:
            if timer is not None:
                timer.cancel()
            self._timer = loop.call_at(deadline, self._check_deadline)

    def _check_deadline(self) -> None:
        self._timer = None
        deadline = self._deadline
        if deadline is None:
            return  # no command in flight: the next one arms the timer again
        loop = asyncio.get_running_loop()
        if loop.time() < deadline:  # moved on by a later command, or woken a hair early
            self._timer = loop.call_at(deadline, self._check_deadline)
            return
        # The reply is overdue: the waiting read raises it, and the session is broken.
        self._reader.set_exception(AgiTimeout(f"no reply within {self._limit:g} s"))

    def release(self) -> None:
        """Stop watching deadlines (the connection is closed; nothing more is sent)."""
        self._deadline = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _digit(self, reply: AgiReply) -> str | None:
        """The key a media command's reply reports; a result that is no key is counted."""
        try:
            return dtmf_from_result(reply)
        except AgiProtocolError:
            self._metrics.error("agi_protocol")
            raise

    def _check(self, reply: AgiReply) -> AgiReply:
        if reply.code == 200:
            return reply
        if reply.code == 511:
            self._hung_up = True
            raise CallerHangup(f"511 {reply.data}")
        raise AgiCommandError(reply.code, reply.data)

    def _trace(self, trace: CommandTrace) -> None:
        self._metrics.agi_command(trace)
        if self.observer is None:
            return
        try:
            self.observer(trace)
        except Exception:
            log.exception("AGI command observer failed")


def _variable(reply: AgiReply) -> str | None:
    """GET [FULL] VARIABLE: ``result=1 (value)`` -> value, ``result=0`` -> None."""
    return reply.data if reply.result == "1" else None
