"""Timers of command on a major incident (IR: Deputy, IC training).

The Deputy is told the elapsed time every `deputy_tick`; the Incident Commander is reminded to
hand over after `ic_handover` in command, and at `ic_handover_max` the Deputy is paged to take
over. A handover restarts the IC's clock. Every timer is a deadline computed from state, so the
incident's run loop waits for the earliest one and a continue-as-new loses none.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import SYSTEM_ACTOR, PageOnDemand
    from workflows.escalation_contracts import ChannelKind, NotifyRequest
    from workflows.incident_business import IncidentBusiness
    from workflows.incident_core import cause

COMMAND_TIMERS = "command-timers"
"""Patch id (Step 7): the Deputy's tick and the IC's handover reminders in the run loop."""
NOTICE_TIMEOUT = timedelta(seconds=30)
MIN_TICK = timedelta(seconds=1)
IC = "incident_commander"
DEPUTY = "deputy"


class IncidentCommand(IncidentBusiness):
    """Elapsed-time callouts and handover reminders."""

    _command_timers: bool
    _waiting_for: datetime | None
    _quiet_changed: bool

    def _publish(self) -> None:
        super()._publish()
        self._follow_command()
        if self._command_timers and self._loop_deadline() != self._waiting_for:
            # An earlier deadline than the run loop waits for (a raise, a handover): wake it.
            self._quiet_changed = True

    def _loop_deadline(self) -> datetime | None:
        """The earliest thing the run loop must wake for: quiet close or a command timer."""
        dues = [d for d in (self._quiet_close_at(), self._next_command_due()) if d is not None]
        return min(dues) if dues else None

    def _quiet_close_at(self) -> datetime | None:
        raise NotImplementedError

    def _commanding(self) -> bool:
        s, playbook = self._s, self._input.playbook
        return (
            self._command_timers
            and playbook.command is not None
            and s.phase.is_open
            and s.severity in playbook.major_severities
        )

    def _follow_command(self) -> None:
        """A new Incident Commander restarts the handover clock."""
        s = self._s
        commander = s.roles.get(IC)
        if commander is not None and commander != s.command_holder:
            s.command_holder = commander
            s.command_since = workflow.now()
            s.handover_step = 0

    def _next_tick(self) -> datetime | None:
        timers = self._input.playbook.command
        if not self._commanding() or timers is None or not self._s.timeline:
            return None
        every = max(timers.deputy_tick * self._input.time_scale, MIN_TICK)
        return self._s.timeline[0].at + every * (self._s.deputy_ticks + 1)

    def _next_handover(self) -> datetime | None:
        timers, s = self._input.playbook.command, self._s
        if not self._commanding() or timers is None or s.command_since is None:
            return None
        if s.handover_step >= 2:
            return None
        after = timers.ic_handover if s.handover_step == 0 else timers.ic_handover_max
        return s.command_since + max(after * self._input.time_scale, MIN_TICK)

    def _next_command_due(self) -> datetime | None:
        dues = [due for due in (self._next_tick(), self._next_handover()) if due is not None]
        return min(dues) if dues else None

    def _command_due(self) -> None:
        """Send whatever command timer has come due."""
        now = workflow.now()
        tick = self._next_tick()
        if tick is not None and tick <= now:
            self._tick(now)
        handover = self._next_handover()
        if handover is not None and handover <= now:
            self._remind_handover()

    def _tick(self, now: datetime) -> None:
        s = self._s
        s.deputy_ticks += 1
        elapsed = _spoken(now - s.timeline[0].at, self._input.time_scale)
        deputy = s.roles.get(DEPUTY)
        text = (
            f"{elapsed} elapsed on {self._message_summary()} ({s.phase.value}). "
            "Call it out: raise severity or post publicly?"
        )
        if deputy is None:
            self._record(SYSTEM_ACTOR, "tick", f"{elapsed} elapsed; no Deputy holds the role.")
            return
        self._record(SYSTEM_ACTOR, "tick", f"{elapsed} elapsed; Deputy {deputy} told.")
        self._send_notice(f"tick{s.deputy_ticks}", deputy, text)

    def _remind_handover(self) -> None:
        s = self._s
        s.handover_step += 1
        commander = s.command_holder or "the Incident Commander"
        timers = self._input.playbook.command
        assert timers is not None
        incident = workflow.info().workflow_id
        if s.handover_step == 1:
            text = (
                f"You have led {self._message_summary()} for {_spoken(timers.ic_handover, 1)}: "
                f"hand over soon (mayday handover {incident} --to PERSON)."
            )
            self._record(SYSTEM_ACTOR, "handover-due", f"{commander} reminded to hand over.")
            if s.command_holder is not None:
                self._send_notice(f"handover{s.command_since:%H%M%S}", s.command_holder, text)
            return
        self._record(
            SYSTEM_ACTOR,
            "handover-due",
            f"{commander} has led for {_spoken(timers.ic_handover_max, 1)}, the most the "
            "playbook allows: paging the Deputy to take command.",
        )
        why = f"{commander} is past the {_spoken(timers.ic_handover_max, 1)} command limit"
        deputy = s.roles.get(DEPUTY)
        if deputy is not None and deputy != s.command_holder:
            self._page_on_demand(PageOnDemand(actor=SYSTEM_ACTOR, person=deputy, reason=why))
        else:
            self._page_role(DEPUTY, why)

    def _send_notice(self, kind: str, person: str, text: str) -> None:
        self._tasks.append(asyncio.create_task(self._notice(kind, person, text)))

    async def _notice(self, kind: str, person: str, text: str) -> None:
        info, decl = workflow.info(), self._input.declaration
        chain = info.first_execution_run_id.replace("-", "")[-6:]
        for channel in ("sms", "email"):
            request = NotifyRequest(
                notification_id=f"{info.workflow_id}:notice:0:{kind}-{chain}:{person}:{channel}",
                incident_id=info.workflow_id,
                purpose="notice",
                person=person,
                channel=_channel(channel),
                level=0,
                summary=text,
                severity=self._s.severity,
                service=decl.service,
                restricted=decl.security,
            )
            try:
                await workflow.execute_activity(
                    "notify",
                    request,
                    task_queue=self._input.page_task_queue,
                    start_to_close_timeout=NOTICE_TIMEOUT,
                    retry_policy=RetryPolicy(maximum_attempts=1),
                    summary=f"notice, {kind}",
                )
                return
            except ActivityError as err:
                if cause(err) == "DeliveryNoChannel" and channel == "sms":
                    continue
                self._record(SYSTEM_ACTOR, "notice", f"Notice to {person} failed ({cause(err)}).")
                return


def _channel(name: str) -> ChannelKind:
    return "sms" if name == "sms" else "email"


def _spoken(span: timedelta, scale: float) -> str:
    """A span in playbook time (unscaled), as people say it: "20 min", "1 h 10 min"."""
    minutes = round(span.total_seconds() / scale / 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"
