"""The preliminary analysis (24 h) and the postmortem: due dates and reminders to their owners.

Each is reminded halfway to its due time, at it, and once more half a window late; then it is
shown overdue. The owner is told by email (a notice, never a page: nobody is woken for a report).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows.business_core import BusinessCore
    from workflows.business_state import Deliverable
    from workflows.contracts import SYSTEM_ACTOR
    from workflows.escalation_contracts import NotifyRequest

REMINDERS = 3
NOTICE_TIMEOUT = timedelta(seconds=30)
FINISHED = {"preliminary": ("closed",), "postmortem": ("reviewed", "closed")}


def due_after(start: datetime, days: int, *, business_days: bool) -> timedelta:
    """How long from `start` until `days` calendar days, or business days (Mon-Fri), later."""
    if not business_days:
        return timedelta(days=days)
    moment, left = start, days
    while left > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            left -= 1
    return moment - start


class DeliverableReminders(BusinessCore):
    """Reminds owners of what is due after the incident."""

    def _deliverables(self) -> list[tuple[str, Deliverable]]:
        s = self._s
        items = [("preliminary", s.preliminary), ("postmortem", s.postmortem)]
        return [(name, item) for name, item in items if item is not None]

    def _reminder_at(self, name: str, item: Deliverable) -> datetime | None:
        if item.due_at is None or item.reminders >= REMINDERS or item.status in FINISHED[name]:
            return None
        half = item.window / 2
        return item.due_at - half + half * item.reminders

    def _next_reminder(self) -> datetime | None:
        dues = [self._reminder_at(name, item) for name, item in self._deliverables()]
        present = [due for due in dues if due is not None]
        return min(present) if present else None

    def _remind_due(self) -> None:
        now = workflow.now()
        for name, item in self._deliverables():
            at = self._reminder_at(name, item)
            if at is None or at > now:
                continue
            item.reminders += 1
            what = "Preliminary analysis" if name == "preliminary" else "Postmortem"
            late = now > item.due_at if item.due_at else False
            when = "overdue since" if late else "due"
            text = f"{what} {when} {item.due_at:%Y-%m-%d %H:%M}Z (status {item.status})."
            owner = item.owner or self._s.roles.get(item.owner_role)
            owner = owner or self._s.technical.get(item.owner_role)
            if owner is None:
                self._record(SYSTEM_ACTOR, "reminder", f"{text} Nobody owns it yet.", report=True)
                continue
            self._record(SYSTEM_ACTOR, "reminder", f"{text} Reminded {owner}.")
            self._tasks.append(asyncio.create_task(self._notice(name, item.reminders, owner, text)))

    async def _notice(self, name: str, number: int, person: str, text: str) -> None:
        inp = self._input
        request = NotifyRequest(
            notification_id=f"{self._id()}:notice:0:{name}{number}:{person}:email",
            incident_id=inp.parent_id,
            purpose="notice",
            person=person,
            channel="email",
            level=0,
            summary=self._summary(text),
            severity=inp.severity,
            service=inp.service,
            restricted=inp.security,
        )
        try:
            await workflow.execute_activity(
                "notify",
                request,
                task_queue=inp.page_task_queue,
                start_to_close_timeout=NOTICE_TIMEOUT,
                retry_policy=RetryPolicy(maximum_attempts=3),
                summary=f"{name} reminder {number}",
            )
        except ActivityError as err:
            cause = type(err.cause).__name__ if err.cause else "failed"
            self._record(SYSTEM_ACTOR, "reminder", f"Reminder to {person} failed ({cause}).")
