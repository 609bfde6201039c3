"""Run one prepared SIPp process under asyncio, and collect its result.

SIPp runs through ``asyncio.create_subprocess_exec`` with a timeout, and the process is
killed when the timeout passes or the awaiting task is cancelled. The call's working
directory is deleted when the call went as expected and kept (its path is in the result and
in ``describe()``) when it did not.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil

from testbed.sipp_call import PreparedCall, release_call_ports
from testbed.sipp_result import SippResult, evaluate_run


async def spawn_sipp(prepared: PreparedCall) -> asyncio.subprocess.Process:
    """Start SIPp in the call's working directory, its output going to the call's logs."""
    stdout, stderr = prepared.stdout_path.open("wb"), prepared.stderr_path.open("wb")
    try:
        return await asyncio.create_subprocess_exec(
            *prepared.args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            cwd=prepared.workdir,
            start_new_session=True,
        )
    finally:
        stdout.close()
        stderr.close()


async def terminate_sipp(proc: asyncio.subprocess.Process) -> None:
    """Stop SIPp if it still runs: SIGTERM, then SIGKILL after 2 s."""
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), 2)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


def _finish(prepared: PreparedCall, result: SippResult) -> SippResult:
    release_call_ports(prepared)
    if result.successful and not prepared.call.keep_files:
        shutil.rmtree(prepared.workdir, ignore_errors=True)
    else:
        result.workdir = prepared.workdir
        result.stdout_path = prepared.stdout_path
        result.stderr_path = prepared.stderr_path
        result.messages_path = prepared.messages_path
        result.errors_path = prepared.errors_path
    return result


async def await_sipp(prepared: PreparedCall, proc: asyncio.subprocess.Process) -> SippResult:
    """Wait for SIPp to end (killing it after the call's timeout) and return the result."""
    timeout = prepared.call.process_timeout()
    note: str | None = None
    try:
        returncode: int | None = await asyncio.wait_for(proc.wait(), timeout)
    except TimeoutError:
        await terminate_sipp(proc)
        returncode = None
        note = f"sipp did not finish within {timeout:.0f} s: killed"
    except BaseException:  # cancelled: never leave a SIPp behind
        await asyncio.shield(terminate_sipp(proc))
        release_call_ports(prepared)
        raise
    return _finish(prepared, evaluate_run(prepared, returncode, note))
