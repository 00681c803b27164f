"""What `mayday status` shows of an incident's business incident, compact enough for 80 columns.

Label and value rows in the status view's own grid (stage, emergency, missing roles, briefing,
functions, resolution, deliverables), then the open actions as a fitted table: what to confirm,
whose it is, how far its escalation went and its ETA.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text

from mayday.cli.layout import fitted_table
from workflows.bounds import visible
from workflows.business_contracts import Stage
from workflows.business_state import ActionStatus, BusinessStatus, Deliverable

ACTION_HEADERS = ("action", "owner", "step", "eta")
ACTIONS_INDENT = 2
OVERDUE_STEPS = ("overdue, re-paged", "overdue, backup paged", "overdue, Lead paged")
"""Steps 1.. of an unconfirmed action (ESCALATION_STEPS): owner, backup, then Business Lead."""
FINISHED = {"preliminary": ("closed",), "postmortem": ("reviewed", "closed")}


@dataclass(frozen=True)
class BusinessView:
    """The business incident of a status, or why it cannot be shown yet."""

    id: str
    status: BusinessStatus | None = None
    note: str | None = None


def business_rows(view: BusinessView, incident_id: str) -> list[tuple[str, str]]:
    """(label, value) rows of the Business section; values are cut by the caller."""
    business = view.status
    if business is None:
        return [("stage", view.note or "unknown")]
    rows = [
        ("stage", f"{business.stage.value}, emergency {business.emergency}"),
    ]
    if business.roles:
        rows.append(("business roles", ", ".join(f"{r}: {p}" for r, p in business.roles.items())))
    if business.missing:
        rows.append(("missing roles", ", ".join(business.missing)))
    briefing = [field.replace("_", "-") for field in business.briefing_missing]
    if briefing:
        rows.append(("briefing missing", ", ".join(briefing)))
    else:
        rows.append(("briefing", "complete"))
    if business.modes:
        rows.append(("functions", ", ".join(f"{f} {m}" for f, m in business.modes.items())))
    if business.stage.rank >= Stage.RESOLVING.rank:
        sent = business.resolution_sent_at
        rows.append(
            (
                "resolution",
                f"sent {sent:%H:%M:%S}Z"
                if sent
                else f"not sent yet (mayday resolution-sent {incident_id})",
            )
        )
    for name, item in (("preliminary", business.preliminary), ("postmortem", business.postmortem)):
        if item is not None:
            rows.append((name, _deliverable(name, item)))
    if business.postmortem is None:
        rows.append(("postmortem", "starts once resolved and every function is normal"))
    waiting = _open(business)
    if waiting:
        rows.append(("open actions", f"{len(waiting)}: mayday confirm {incident_id} ACTION"))
    return rows


def actions_table(view: BusinessView, *, width: int, wide: bool) -> RenderableType | None:
    """The open actions under the rows, indented: one line each, the step cut first."""
    if view.status is None:
        return None
    waiting = _open(view.status)
    if not waiting:
        return None
    now = datetime.now(UTC)
    cells = [[visible(a.action), visible(a.owner_role), _step(a, now), _eta(a)] for a in waiting]
    if wide:
        rows = [list(ACTION_HEADERS), *cells]
        widths = [max(len(row[i]) for row in rows) for i in range(len(ACTION_HEADERS))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
        table: RenderableType = Group(*(Text(line.rstrip()) for line in lines))
    else:
        table = fitted_table(
            ACTION_HEADERS, cells, width=width - ACTIONS_INDENT, free=ACTION_HEADERS.index("step")
        )
    return Padding(table, (0, 0, 0, ACTIONS_INDENT))


def _open(business: BusinessStatus) -> list[ActionStatus]:
    return [a for a in business.actions if a.state != "done"]


def _step(action: ActionStatus, now: datetime) -> str:
    """Where an open action stands: calling its endpoint, assigned, or overdue and how far.

    Short words (the workflow's ESCALATION_STEPS, shortened) so the step fits at 80 columns.
    """
    if action.state == "calling":
        return "calling endpoint"
    if action.step > 0:
        return OVERDUE_STEPS[min(action.step, len(OVERDUE_STEPS)) - 1]
    if action.eta_at is not None and now > action.eta_at:
        return "overdue"
    return "assigned"


def _eta(action: ActionStatus) -> str:
    return f"{action.eta_at:%H:%M:%S}Z" if action.eta_at else "-"


def _deliverable(name: str, item: Deliverable) -> str:
    """ "draft, due 2026-12-04 12:00Z, owner aisha-bello" (overdue once past due, not done)."""
    parts: list[str] = [item.status]
    if item.due_at is not None:
        late = item.status not in FINISHED[name] and datetime.now(UTC) > item.due_at
        parts.append(f"{'overdue since' if late else 'due'} {item.due_at:%Y-%m-%d %H:%M}Z")
    parts.append(f"owner {item.owner or item.owner_role}")
    if item.link:
        parts.append(item.link)
    return ", ".join(parts)
