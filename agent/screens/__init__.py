"""What the terminal chat shows: one rich renderable per reply kind, gate, error and progress.

Pure functions of the typed events (``agent.events``): no I/O, no state, so
every screen renders the same on any console and is snapshot-tested at a fixed
width (``tests/unit/test_screens.py``). The words of a reply still come from
``agent.replies``; a screen adds structure where structure helps (tables for
plans, estimates, listings and dashboards; JSON for raw data) and falls back
to the reply's own text for everything else.

The screens live by topic: ``journey`` (plan, listing draft, status,
progress), ``gates`` (approval questions), ``market`` (listings, dashboard,
market analysis), ``bulk`` (bulk plan and summary) and ``chat`` (help,
conversations, problems, debug views); ``layout`` holds their building blocks.

Example::

    console = Console(width=80)
    console.print(screens.reply(event))          # a TextEvent
    console.print(screens.gate(gate_event))      # a question with its cost and default
    console.print(screens.progress([upload, verification]))
"""

from __future__ import annotations

from collections.abc import Callable

from rich import box
from rich.console import RenderableType
from rich.markdown import Markdown
from rich.panel import Panel
from rich.text import Text

from agent.events import TextEvent
from agent.screens.bulk import (
    bulk_listings,
    bulk_listings_changed,
    bulk_listings_fixed,
    bulk_plan,
    bulk_summary,
)
from agent.screens.chat import (
    COMMANDS,
    SAYINGS,
    error,
    help_screen,
    pause,
    problem,
    state,
    threads,
)
from agent.screens.gates import gate
from agent.screens.journey import (
    compression,
    plan,
    price,
    progress,
    progress_line,
    raw,
    status,
    task_label,
    verified,
)
from agent.screens.layout import Data
from agent.screens.market import dashboard, listings, market

__all__ = [
    "COMMANDS",
    "SAYINGS",
    "error",
    "gate",
    "help_screen",
    "pause",
    "problem",
    "progress",
    "progress_line",
    "reply",
    "state",
    "task_label",
    "threads",
]

# Prose replies, rendered as Markdown (paragraphs reflow to the terminal's width).
_PROSE = frozenset(
    {
        "faq",
        "onboarding_welcome",
        "onboarding_platform_overview",
        "onboarding_first_upload_guide",
        "onboarding_verification_explanation",
        "onboarding_marketplace_introduction",
        "onboarding_next",
        "welcome_back",
        "bulk_beginner_note",
    }
)
# Replies that report a problem and what to do about it.
_TROUBLE = frozenset({"error", "troubleshoot", "alternative", "auto_cap_exceeded"})
# Replies that report a milestone reached.
_SUCCESS = frozenset({"upload_done", "listed", "purchased", "download_verified", "bulk_file_done"})

_BY_KIND: dict[str, Callable[[Data, str], RenderableType]] = {
    "assessment": plan,
    "compression_recommendation": compression,
    "price_suggestion": price,
    "listings": listings,
    "listing_choice": listings,
    "dashboard": dashboard,
    "market_analysis": market,
    "status": status,
    "raw_data": raw,
    "bulk_plan": bulk_plan,
    "bulk_summary": bulk_summary,
    "bulk_listing_plan": bulk_listings,
    "bulk_listing_plan_fixed_terms": bulk_listings_fixed,
    "bulk_prices_changed": bulk_listings_changed,
    "bulk_listing_edited": bulk_listings_changed,
    "verification_passed": verified,
}


def reply(event: TextEvent) -> RenderableType:
    """The screen for one reply: a table, JSON or a panel by ``kind``, else its text."""
    special = _BY_KIND.get(event.kind)
    if special is not None:
        return special(event.data, event.text)
    if event.kind in _PROSE:
        return Markdown(event.text, hyperlinks=False)
    if event.kind in _TROUBLE or event.kind.startswith("troubleshoot"):
        return Panel(Text(event.text), border_style="yellow", box=box.ROUNDED, expand=False)
    if event.kind in _SUCCESS:
        return Text.assemble(("✔ ", "bold green"), event.text)
    return Text(event.text)
