"""Changing a listing after it is on the market: a new price, or taking it off.

``make it 2 SUI`` after listing asks once (the ``change`` gate; auto mode does
not ask) and sets the listing's price; ``delist my model`` asks once and takes
the listing off the market. Both are the creator's alone and cost gas only, as
listing does. Where the deployed contract has no such entry point (the live
network) the user is told so and nothing is sent.
"""

from __future__ import annotations

from typing import Literal

from langgraph.runtime import Runtime
from langgraph.types import Command

from flows.events import say
from flows.gates import ask, decide
from flows.notices import prices_changed
from flows.publication import chain_tx, tx_times
from flows.services import Services
from flows.state import END, JourneyState, ModelContext
from integrations.errors import SatyaError


def _change(state: JourneyState) -> tuple[str, int | None]:
    """('reprice', new price) or ('delist', None), from the request that started this."""
    intent = state["intent"]
    if intent["kind"] == "set_price" and intent.get("price_mist") is not None:
        return "reprice", intent.get("price_mist")
    return "delist", None


async def listing_change_gate(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["listing_change", "listing_change_gate", "__end__"]]:
    """Ask before changing what buyers see (supervised); auto mode goes straight on."""
    ctx = state["context"]
    action, price = _change(state)
    data: dict[str, object] = {
        "action": action,
        "listing_id": ctx.get("listing_id", ""),
        "title": ctx.get("title", ""),
        "old_price_mist": ctx.get("price_mist", 0),
    }
    if price is not None:
        data["price_mist"] = price
    if state["mode"] == "auto":
        return Command(goto="listing_change")
    answer = ask("change", "listing_change_gate", **data)
    decision = await decide(answer, state, runtime)
    if decision == "approve":
        return Command(goto="listing_change")
    if decision == "decline":
        say(runtime, "listing_change_declined", **data)
        return Command(goto=END)
    return Command(goto="listing_change_gate")


_AGAIN = (
    "It keeps its key, so it is never executed twice: ask for the same change again to wait "
    "for it once more."
)


async def listing_change(state: JourneyState, runtime: Runtime[Services]) -> dict[str, object]:
    """Send the reprice or delist transaction (keyed, so a re-run sends nothing twice)."""
    services = runtime.context
    ctx = state["context"]
    action, price = _change(state)
    listing_id = ctx.get("listing_id", "")
    changes = len(ctx.get("listing_changes", []))
    request = f"{state['workflow_id']}:{action}:{changes}"
    try:
        wallet = await services.wallet_for(state["user_id"])
        times = await tx_times(runtime, state["user_id"], (action,))
        if action == "reprice" and price is not None:
            work = services.ledger.reprice(wallet, listing_id, price, request_id=request)
        else:
            work = services.ledger.delist(wallet, listing_id, request_id=request)
        receipt = await chain_tx(services, action, work, times, hint=_AGAIN)
    except SatyaError as error:
        say(runtime, "error", code=error.code, message=error.message, hint=error.hint)
        return {}
    history = [*ctx.get("listing_changes", []), request]
    new_ctx: ModelContext = {**ctx, "listing_changes": history}
    if action == "reprice" and price is not None:
        new_ctx["price_mist"] = price
        say(runtime, "repriced", listing_id=listing_id, price_mist=price, digest=receipt.digest)
    else:
        new_ctx.pop("listing_id", None)
        new_ctx["delisted_listing_id"] = listing_id
        say(runtime, "delisted", listing_id=listing_id, title=ctx.get("title", ""))
    await prices_changed(runtime, {ctx.get("category", "general")}, changed={listing_id})
    return {"context": new_ctx}
