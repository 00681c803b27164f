"""EscalationWorkflow: page one target through the levels of a policy until someone acks.

Each level resolves who is on call (an activity, at workflow time), notifies every person on
their first channel that works, and waits for an ack for the level's timeout times time_scale. An
ack is one state: once accepted no page is scheduled again, pages still in flight are cancelled,
and everyone paged so far is told who has it.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    CancelledError,
    FailureError,
)

with workflow.unsafe.imports_passed_through():
    from workflows.escalation_contracts import (
        NOT_MOBILE,
        POSSIBLY_SENT,
        THROTTLED,
        AckInput,
        AckResult,
        ChannelKind,
        DeliveryStatus,
        EscalationInput,
        FirstLevelPaged,
        LevelMember,
        NotifyRequest,
        PageAcked,
        PageEnded,
        PageEvent,
        PageOutcome,
        PageState,
        PageStatus,
        PageTarget,
        ResolvedLevel,
        ResolveLevelRequest,
    )
    from workflows.incident_core import rejected
    from workflows.page_sends import (
        CHANNEL_LABELS,
        error_type,
        notification_id,
        send_once,
        send_with_retry_policy,
    )

EXTERNAL_ACK_DOORS = frozenset({"pagerduty"})
"""Doors whose ack stands for a person we did not page (someone acked in PagerDuty)."""
FALLBACK_LEVEL = 0
RESOLVE_TIMEOUT = timedelta(seconds=10)
MIN_WINDOW = timedelta(seconds=1)
FALLBACK_ACK_WINDOW = "fallback-ack-window"
"""Patch id: after the fallback page, wait one more ack window before giving up."""
DELIVERY_SEMANTICS = "delivery-semantics"
"""Patch id: each send at most once per notification id (an ambiguous send is "possibly sent",
never retried), retries decided here, repeats at renotify_every, ack notices by SMS or email and
never to the acker."""
SEND_ATTEMPTS = 5
NOTICE_ATTEMPTS = 3
REPEATING_CHANNELS = ("sms", "voice")


@workflow.defn
class EscalationWorkflow:
    """Pages one target (role, rotation or person) until an ack or the policy is exhausted."""

    @workflow.init
    def __init__(self, inp: EscalationInput) -> None:
        self._input = inp
        self._level = 0
        self._round = 1
        self._ack: AckResult | None = None
        self._ack_via: str | None = None
        self._exhausted = False
        # Person id → their channels, in the order they were first paged.
        self._paged: dict[str, list[ChannelKind]] = {}
        self._events: list[PageEvent] = []
        self._deliveries: dict[str, DeliveryStatus] = {}
        self._cancelled = False
        self._reports: list[asyncio.Task[None]] = []
        self._v2 = False
        # Person → the channel that reached them (or possibly did) at the current level.
        self._level_reached: dict[str, ChannelKind] = {}

    @workflow.run
    async def run(self, inp: EscalationInput) -> PageStatus:
        if not self._reports_back():
            return await self._page(inp)
        try:
            status = await self._page(inp)
        except asyncio.CancelledError:
            # The incident resolved or closed: it still gets every step this page took.
            self._cancelled = True
            self._event(self._level, "cancelled")
            await asyncio.gather(*self._reports)
            await self._report("page_ended", PageEnded(page_id=self._id(), status=self._status()))
            raise
        await asyncio.gather(*self._reports)
        await self._report("page_ended", PageEnded(page_id=self._id(), status=status))
        return status

    @staticmethod
    def _id() -> str:
        return workflow.info().workflow_id

    def _reports_back(self) -> bool:
        return self._input.report or self._input.report_to is not None

    async def _report(self, signal: str, payload: PageAcked | PageEnded) -> None:
        """Tell the incident (or `report_to`) by its workflow id, which reaches its newest run."""
        # A business incident pages for a technical incident's id but hears the outcome itself.
        receiver = self._input.report_to or self._input.incident_id
        try:
            await workflow.get_external_workflow_handle(receiver).signal(signal, payload)
        except FailureError:
            # The incident has closed; its record ends where it ended.
            self._event(self._level, "failed", detail=f"incident did not take {signal}")

    async def _page(self, inp: EscalationInput) -> PageStatus:
        self._v2 = workflow.patched(DELIVERY_SEMANTICS)
        self._publish()
        policy = inp.policy
        for round_number in range(1, policy.repeat + 2):
            for number, level in enumerate(policy.levels, start=1):
                if self._ack is not None:
                    break
                self._round, self._level = round_number, number
                window = level.ack_timeout * inp.time_scale
                first = inp.first_level if (round_number, number) == (1, 1) else None
                await self._run_level(number, level.targets, window, first)
        if self._ack is None:
            await self._page_fallback(policy.fallback, policy.levels[-1].ack_timeout)
            if policy.fallback is not None and workflow.patched(FALLBACK_ACK_WINDOW):
                # Whoever the fallback woke can still take the page.
                window = policy.levels[-1].ack_timeout * inp.time_scale
                try:
                    await workflow.wait_condition(
                        lambda: self._ack is not None,
                        timeout=window,
                        timeout_summary="ack timeout, fallback",
                    )
                except TimeoutError:
                    self._event(FALLBACK_LEVEL, "ack-timeout")
        if self._ack is not None:
            await self._send_ack_notices()
        else:
            self._exhausted = True
            self._event(self._level, "exhausted")
            self._publish()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._status()

    @workflow.update(description="Take the page; every other channel stops and all are told.")
    def ack(self, inp: AckInput) -> AckResult:
        if self._ack is not None:
            # Two acks in one workflow task: the validator of the second ran before the first.
            raise rejected(f"Already acknowledged by {self._ack.acked_by}.")
        self._ack = AckResult(acked_by=inp.actor, at=workflow.now(), level=self._level)
        self._ack_via = inp.channel
        self._event(self._level, "acked", person=inp.actor, channel=inp.channel)
        if self._reports_back():
            # The incident learns of the ack now, not after the handled-by notices.
            acked = PageAcked(
                page_id=self._id(),
                acked_by=inp.actor,
                at=self._ack.at,
                via=inp.channel,
                level=self._level,
            )
            self._reports.append(asyncio.create_task(self._report("page_acked", acked)))
        self._publish()
        return self._ack

    @ack.validator
    def _validate_ack(self, inp: AckInput) -> None:
        if self._ack is not None:
            raise rejected(
                f"Already acknowledged by {self._ack.acked_by} "
                f"at {self._ack.at:%H:%M:%S}Z (level {self._ack.level})."
            )
        if self._exhausted:
            raise rejected("The page is exhausted; page again from the incident.")
        if inp.actor not in self._paged and inp.channel not in EXTERNAL_ACK_DOORS:
            paged = ", ".join(self._paged) or "nobody yet"
            raise rejected(f"{inp.actor!r} was not paged by this page (paged: {paged}).")

    @workflow.signal(description="A provider's delivery callback; the furthest state is kept.")
    def delivery_status(self, update: DeliveryStatus) -> None:
        if update.beyond(self._deliveries.get(update.notification_id)):
            self._deliveries[update.notification_id] = update

    @workflow.query(description="State of the page: level, who was paged, who acked, events.")
    def page_status(self) -> PageStatus:
        return self._status()

    async def _run_level(
        self,
        number: int,
        targets: list[PageTarget],
        window: timedelta,
        first: FirstLevelPaged | None = None,
    ) -> None:
        """Notify a level and wait for its ack; a level with nobody reachable ends at once.

        With `first`, the incident already paged this level; only the people it missed are
        tried again (on their other channels), and the ack window counts from that page.
        """
        reached = 0
        self._level_reached = {}
        if first is None:
            members = await self._resolve(number, targets)
        else:
            members, reached = self._adopt(first)
            window = max(window - (workflow.now() - first.at), MIN_WINDOW)
        if not members and not reached:
            return
        sending = asyncio.create_task(self._notify_all(members, number, window))
        every = self._input.policy.renotify_every
        repeating = (
            asyncio.create_task(self._renotify(number, every * self._input.time_scale))
            if self._v2 and every is not None
            else None
        )
        try:
            await workflow.wait_condition(
                lambda: (
                    self._ack is not None
                    or (not reached and sending.done() and sending.result() == 0)
                ),
                timeout=window,
                timeout_summary=f"ack timeout, level {number}",
            )
        except TimeoutError:
            self._event(number, "ack-timeout")
        finally:
            if repeating is not None:
                await _stop(repeating)
            await _stop(sending)

    def _adopt(self, first: FirstLevelPaged) -> tuple[list[LevelMember], int]:
        """Record the incident's first page as this page's level 1; who still needs paging."""
        for target_id in first.unresolved:
            self._event(1, "no-one-on-call", detail=target_id)
        retry: list[LevelMember] = []
        for member in first.members:
            if not member.channels:
                continue
            nid = self._notification_id("page", 1, member.person, member.channels[0])
            self._paged.setdefault(member.person, list(member.channels))
            if member.person in first.reached:
                channel = first.reached[member.person]
                self._level_reached[member.person] = member.channels[0]
                self._event(1, "paged", member.person, channel, "accepted", nid)
                continue
            if member.person in first.possibly_sent:
                # Its request left unanswered: sending again could text them twice.
                self._level_reached[member.person] = member.channels[0]
                channel = first.possibly_sent[member.person]
                self._event(1, "possibly-sent", member.person, channel, POSSIBLY_SENT, nid)
                continue
            error = first.failed.get(member.person, "DeliveryError")
            self._event(1, "failed", member.person, member.channels[0], error, nid)
            rest = member.channels[1:]
            if error == NOT_MOBILE and "voice" in rest:
                rest = ["voice", *[c for c in rest if c != "voice"]]
            if rest:
                retry.append(member.model_copy(update={"channels": rest}))
        self._publish()
        return retry, len(first.reached) + len(first.possibly_sent)

    async def _resolve(self, number: int, targets: list[PageTarget]) -> list[LevelMember]:
        request = ResolveLevelRequest(
            incident_id=self._input.incident_id,
            targets=targets,
            both_primary_and_backup=self._input.both_primary_and_backup,
            at=workflow.now(),
        )
        try:
            resolved: ResolvedLevel = await workflow.execute_activity(
                "resolve_level",
                request,
                result_type=ResolvedLevel,
                start_to_close_timeout=RESOLVE_TIMEOUT,
                retry_policy=RetryPolicy(maximum_attempts=3),
                summary=f"who is on call, level {number}" if number else "who is on call, fallback",
            )
        except ActivityError as err:
            if isinstance(err.cause, CancelledError):
                # The page itself is being cancelled (incident resolved): stop, don't escalate.
                raise asyncio.CancelledError from None
            self._event(number, "no-one-on-call", detail=error_type(err))
            return []
        for target_id in resolved.unresolved:
            self._event(number, "no-one-on-call", detail=target_id)
        return resolved.members

    async def _notify_all(self, members: list[LevelMember], number: int, window: timedelta) -> int:
        """Page every member concurrently; the number reached on some channel."""
        reached = await asyncio.gather(
            *(self._notify_person(m, number, window, notice=False) for m in members)
        )
        return sum(reached)

    async def _notify_person(
        self, member: LevelMember, number: int, window: timedelta, *, notice: bool
    ) -> bool:
        """Try the person's channels in preference order until one takes the page (or possibly)."""
        remaining = list(member.channels)
        if (notice and self._v2) or self._input.urgency == "low":
            # "No action needed" never rings a phone; nor does a low-urgency page.
            remaining = [channel for channel in remaining if channel != "voice"]
        purpose = "ack-notice" if notice else "page"
        while remaining:
            if not notice and self._ack is not None:
                return False
            channel = remaining.pop(0)
            if not notice:
                self._paged.setdefault(member.person, list(member.channels))
            nid = self._notification_id(purpose, number, member.person, channel)
            label = CHANNEL_LABELS[channel]
            summary = (
                f"handled-by notice, {label}"
                if notice
                else f"{label} to {member.slot}, " + (f"level {number}" if number else "fallback")
            )
            request = self._request(nid, purpose, member.person, channel, number)
            try:
                if self._v2:
                    attempts = NOTICE_ATTEMPTS if notice else SEND_ATTEMPTS
                    outcome, detail = await send_once(request, window, summary, attempts)
                else:
                    outcome, detail = await send_with_retry_policy(request, window, summary)
            except asyncio.CancelledError:
                self._event(number, "cancelled", member.person, channel, None, nid)
                raise
            if outcome == "cancelled":
                # Cancelled by an ack or the level's end: no next channel either.
                self._event(number, "cancelled", member.person, channel, None, nid)
                return False
            if outcome == "failed":
                self._event(number, "failed", member.person, channel, detail, nid)
                if detail == NOT_MOBILE and "voice" in remaining:
                    remaining.remove("voice")
                    remaining.insert(0, "voice")
                continue
            if notice:
                outcome = "notified"
            else:
                self._level_reached[member.person] = channel
            self._event(number, outcome, member.person, channel, detail, nid)
            self._publish()
            return True
        return False

    async def _renotify(self, number: int, every: timedelta) -> None:
        """Repeat the page by SMS and voice to everyone this level reached, until the ack."""
        every = max(every, MIN_WINDOW)
        repeat = 0
        while self._ack is None:
            await workflow.sleep(every, summary=f"renotify, level {number}")
            if self._ack is not None:
                return
            repeat += 1
            due = [
                (person, channel)
                for person, channel in self._level_reached.items()
                if channel in REPEATING_CHANNELS
            ]
            await asyncio.gather(
                *(self._repeat(person, channel, number, repeat, every) for person, channel in due)
            )

    async def _repeat(
        self, person: str, channel: ChannelKind, number: int, repeat: int, every: timedelta
    ) -> None:
        # The round slot carries the repeat: `…:<level>:<round>r<n>:<person>:<channel>`.
        round_ = f"{self._round}r{repeat}"
        nid = notification_id(self._id(), self._input.purpose, number, round_, person, channel)
        request = self._request(nid, "page", person, channel, number)
        summary = f"{CHANNEL_LABELS[channel]} repeat {repeat}, level {number}"
        try:
            outcome, detail = await send_once(request, every, summary, 1)
        except asyncio.CancelledError:
            self._event(number, "cancelled", person, channel, None, nid)
            raise
        if outcome == "paged":
            outcome = "renotified"
        elif outcome == "failed" and detail == THROTTLED:
            # Over the per-number budget: this repeat is skipped, the next one may go.
            outcome = "skipped"
        self._event(number, outcome, person, channel, detail, nid)

    async def _page_fallback(self, target: PageTarget | None, timeout: timedelta) -> None:
        if target is None:
            return
        members = await self._resolve(FALLBACK_LEVEL, [target])
        window = timeout * self._input.time_scale
        await asyncio.gather(
            *(self._notify_person(m, FALLBACK_LEVEL, window, notice=False) for m in members)
        )

    async def _send_ack_notices(self) -> None:
        window = self._input.policy.levels[0].ack_timeout * self._input.time_scale
        acker = self._ack.acked_by if self._v2 and self._ack is not None else None
        members = [
            LevelMember(person=person, slot="paged", channels=channels)
            for person, channels in self._paged.items()
            if person != acker
        ]
        await asyncio.gather(
            *(self._notify_person(m, self._level, window, notice=True) for m in members)
        )

    def _notification_id(self, purpose: str, level: int, person: str, channel: str) -> str:
        kind = self._input.purpose if purpose == "page" else purpose
        return notification_id(self._id(), kind, level, str(self._round), person, channel)

    def _request(
        self, nid: str, purpose: str, person: str, channel: ChannelKind, level: int
    ) -> NotifyRequest:
        inp = self._input
        return NotifyRequest(
            notification_id=nid,
            incident_id=inp.incident_id,
            purpose="ack-notice" if purpose == "ack-notice" else "page",
            person=person,
            channel=channel,
            level=level,
            summary=inp.summary,
            severity=inp.severity,
            service=inp.service,
            role_name=inp.role_name,
            acked_by=self._ack.acked_by if self._ack is not None else None,
            restricted=inp.restricted,
        )

    def _event(
        self,
        level: int,
        outcome: PageOutcome,
        person: str | None = None,
        channel: str | None = None,
        detail: str | None = None,
        notification_id: str | None = None,
    ) -> None:
        self._events.append(
            PageEvent(
                at=workflow.now(),
                level=level,
                round=self._round,
                person=person,
                channel=channel,
                outcome=outcome,
                detail=detail,
                notification_id=notification_id,
            )
        )

    def _state(self) -> PageState:
        if self._ack is not None:
            return "acked"
        if self._cancelled:
            return "cancelled"
        return "exhausted" if self._exhausted else "notifying"

    def _publish(self) -> None:
        holder = f" by `{self._ack.acked_by}`" if self._ack is not None else ""
        workflow.set_current_details(
            f"Page of `{self._input.target}` · **{self._state()}**{holder}\n\n"
            f"Level {self._level}/{len(self._input.policy.levels)}, "
            f"round {self._round}/{self._input.policy.repeat + 1}, paged {len(self._paged)}"
        )

    def _status(self) -> PageStatus:
        ack = self._ack
        return PageStatus(
            incident_id=self._input.incident_id,
            target=self._input.target,
            state=self._state(),
            level=self._level,
            round=self._round,
            acked_by=ack.acked_by if ack else None,
            acked_at=ack.at if ack else None,
            acked_via=self._ack_via,
            paged=list(self._paged),
            events=list(self._events),
            deliveries=dict(self._deliveries),
            possibly_sent=sum(1 for e in self._events if e.outcome == "possibly-sent"),
        )


async def _stop(task: asyncio.Task[Any]) -> None:
    """Cancel a level's sends still in flight (ack or timeout) and wait until they have stopped."""
    if task.done():
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
