"""transaction: top-up, suspend or resume behind the 6-digit service password.

Failed passwords count in a counter shared by every call of the number (and every engine
instance): at ``lock_after`` failures the number is locked and the caller goes to
``locked`` (an agent); a right password resets the count.
"""

from __future__ import annotations

from ivr_engine.data.backend import BackendError
from ivr_engine.interpreter.context import CallContext
from ivr_engine.interpreter.say import say_prompts
from ivr_engine.menus.node_models import TransactionNode
from ivr_engine.nodes.collect import collect_digits
from ivr_engine.nodes.prompts import play

PASSWORD_COUNTER = "password_failures"
PASSWORD_LENGTH = 6


async def _authenticate(node: TransactionNode, ctx: CallContext) -> str | None:
    """None when the password was right, else the target to go to."""
    counters, backend = ctx.services.counters, ctx.services.backend
    failures = await counters.get(PASSWORD_COUNTER, ctx.caller)
    ctx.counters[PASSWORD_COUNTER] = failures
    if failures >= node.lock_after:
        ctx.step("password-locked", f"{failures} failures")
        return node.locked
    for attempt in range(1, node.attempts_per_call + 1):
        password, _ = await collect_digits(
            ctx,
            list(node.password_prompts),
            max_digits=PASSWORD_LENGTH,
            terminator="#",
            timeout=8.0,
            secret=True,
        )
        if len(password) == PASSWORD_LENGTH and await backend.verify_password(ctx.caller, password):
            await counters.reset(PASSWORD_COUNTER, ctx.caller)
            ctx.counters[PASSWORD_COUNTER] = 0
            ctx.step("password-ok", f"attempt {attempt}")
            return None
        failures = await counters.increment(PASSWORD_COUNTER, ctx.caller)
        ctx.counters[PASSWORD_COUNTER] = failures
        ctx.step("password-wrong", f"attempt {attempt}, {failures} failures in all")
        if failures >= node.lock_after:
            return node.locked
        await play(ctx, node.wrong_password)
    return node.failed


async def run(node_id: str, node: TransactionNode, ctx: CallContext) -> str | None:
    backend = ctx.services.backend
    try:
        refused = await _authenticate(node, ctx)
        if refused is not None:
            return refused
        if node.action == "topup":
            card = str(ctx.variables.get(node.card_var or "", ""))
            result = await backend.topup(ctx.caller, card)
            ctx.step("topup", f"ok={result.ok} reason={result.reason}")
            if not result.ok:
                return node.failed
            data = {"new_balance": result.new_balance}
        else:
            done = await backend.set_suspended(ctx.caller, node.action == "suspend")
            ctx.step(node.action, f"ok={done}")
            if not done:
                return node.failed
            data = {}
    except BackendError as exc:
        ctx.step("transaction-failed", f"{node.action}: {exc}")
        return node.on_error
    await play(ctx, say_prompts(node.say, data, ctx.channel.language))
    return node.next
