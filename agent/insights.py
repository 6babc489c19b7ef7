"""``satya insights``: where journeys fail, what is slow and what it cost, from the
step events kept under ``SATYA_HOME`` (or ``DATABASE_URL``'s database).

Example::

    $ satya insights --user ana          # words, a table and bar charts
    $ satya insights --all --json        # every user's journeys, as JSON
"""

from __future__ import annotations

import json

from agent.persistence import open_persistence
from agent.replies import render_insights
from agent.settings import Settings
from flows.insights import Insights, compute_insights, load_records


async def read_insights(settings: Settings, *, user: str | None) -> Insights:
    """The insights of ``user``'s journeys, or of every user's (``None``)."""
    async with open_persistence(settings) as persistence:
        records = await load_records(persistence.store, user)
    return compute_insights(
        records,
        scope=user or "platform",
        slow_factor=settings.deadline_factor,
        slow_min_s=settings.deadline_min_s,
    )


async def insights_command(settings: Settings, *, user: str | None, as_json: bool) -> str:
    """What ``satya insights`` prints."""
    report = await read_insights(settings, user=user)
    if as_json:
        return json.dumps(report, indent=2, sort_keys=True)
    return render_insights(report)
