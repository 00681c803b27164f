"""Hand alerts to incidents: route by the playbook, then signal-with-start the incident."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowQueryFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from mayday.incidents import (
    INCIDENT_PREFIX,
    INCIDENT_TASK_TIMEOUT,
    PAGERDUTY_MIRROR_MEMO,
    DecisionRejected,
    answer_timeout,
    incident_memo,
    incident_summary,
    is_incident_id,
    listed_title,
)
from mayday.intake_batching import GroupCommit, Submission, split
from mayday.settings import Settings
from playbooks import Playbook
from playbooks.schema import AlertRoute
from workflows.alert_book import alert_key
from workflows.alerts import Alert, AlertBatch, AlertDelivery, AlertStatus
from workflows.contracts import Declaration, IncidentInput, PlaybookSnapshot
from workflows.incident import IncidentWorkflow, initial_search_attributes

MAX_KEY_LENGTH = 80
MIRROR_PREFIX = "mayday:"
"""Dedup-key prefix of the PagerDuty alerts mayday triggers (activities.notify)."""
SIGNAL_LIMIT = "exceeded workflow execution limit for signal events"
SIGNAL_RPC_TIMEOUT = timedelta(seconds=10)
"""A signal never waits longer than a sender's budget; a hung one would block its key."""
KNOWN_RUNNING = 10_000
"""Incident ids remembered as running, to signal them without a start request."""
_UNSAFE = re.compile(r"[^a-z0-9._-]+")
_keys = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


class UnroutableAlert(Exception):
    """No alert route of the playbook matches; `field` names the alert, `unrouted` counts them."""

    def __init__(self, message: str, field: str, *, unrouted: int = 0) -> None:
        super().__init__(message)
        self.field = field
        self.unrouted = unrouted


@dataclass
class Intake:
    """What became of one delivery: incidents signalled, alerts nobody routes or nobody needs."""

    incidents: list[str] = field(default_factory=list)
    unrouted: int = 0
    ignored: int = 0


def incident_id_for(dedup_key: str) -> str:
    """`incident-<key>`: lower-case, id-safe, and hashed when too long to read."""
    slug = _UNSAFE.sub("-", dedup_key.lower()).strip("-") or "alert"
    if len(slug) > MAX_KEY_LENGTH:
        digest = hashlib.sha256(dedup_key.encode()).hexdigest()[:16]
        slug = f"{slug[: MAX_KEY_LENGTH - 17]}-{digest}"
    return INCIDENT_PREFIX + slug


def route_for(playbook: Playbook, item: Alert) -> AlertRoute | None:
    """The first route whose matchers accept the alert's labels."""
    return next((route for route in playbook.alert_routes if route.matches(item.labels)), None)


@lru_cache(maxsize=256)
def _key_template(source: str) -> Template:
    return _keys.from_string(source)


def dedup_key(route: AlertRoute, item: Alert) -> str:
    """The route's dedup key template rendered for the alert."""
    try:
        return _key_template(route.dedup_key).render(
            labels=item.labels,
            annotations=item.annotations,
            source=item.source,
            fingerprint=item.fingerprint,
            service=route.service,
        )
    except TemplateError as err:
        raise UnroutableAlert(
            f"Route {route.id!r} cannot build a dedup key for this alert: {err.message}",
            field="labels",
        ) from None


@dataclass(frozen=True)
class Opening:
    """How an incident starts from a firing alert: its route and the alert naming it."""

    route: AlertRoute
    first: Alert


def failure_kind(err: BaseException) -> str:
    """A short, PII-free name for why a hand-off failed, for logs."""
    if isinstance(err, RPCError):
        message = err.message.lower()
        if SIGNAL_LIMIT in message:
            return "signal-limit"
        if "size exceeds limit" in message or "too large" in message:
            return "payload-too-large"
        return f"rpc-{err.status.name.lower() if err.status else 'unknown'}"
    if isinstance(err, TimeoutError):
        return "timeout"
    return type(err).__name__


class HandOff:
    """Hands deliveries to incidents for one HTTP process, merging concurrent signals per key."""

    def __init__(
        self,
        settings: Settings,
        playbook: Playbook,
        snapshot: PlaybookSnapshot,
        connect: Callable[[], Awaitable[Client]],
    ) -> None:
        self._settings = settings
        self._playbook = playbook
        self._snapshot = snapshot
        self._connect = connect
        self.commit: GroupCommit[Opening] = GroupCommit(
            self._send, linger=settings.hook_batch_linger_seconds
        )
        self._running: OrderedDict[str, None] = OrderedDict()

    async def __call__(self, source: str, delivery_id: str, alerts: list[Alert]) -> Intake:
        """Signal each routed group of alerts into its incident, starting it when firing.

        Returns only after Temporal accepted every signal, so a 202 means nothing can be lost.
        """
        groups, intake = self._route(alerts)
        now = datetime.now(UTC)
        work: dict[str, list[Submission[Opening]]] = {}
        for incident_id, group in groups.items():
            opening = next(
                (Opening(route, a) for a, route in group if a.status is AlertStatus.FIRING), None
            )
            work[incident_id] = [
                Submission(
                    AlertDelivery(
                        delivery_id=chunk.delivery_id,
                        source=source,
                        alerts=chunk.alerts,
                        received_at=now,
                    ),
                    chunk.size,
                    opening if any(a.status is AlertStatus.FIRING for a in chunk.alerts) else None,
                )
                for chunk in split(delivery_id, [a for a, _ in group])
            ]
        reached = await self._submit_all(work)
        for incident_id, group in groups.items():
            if reached[incident_id]:
                intake.incidents.append(incident_id)
            else:
                intake.ignored += len(group)
        return intake

    def _route(
        self, alerts: list[Alert]
    ) -> tuple[dict[str, list[tuple[Alert, AlertRoute]]], Intake]:
        groups: dict[str, list[tuple[Alert, AlertRoute]]] = defaultdict(list)
        intake = Intake()
        first_unrouted: int | None = None
        for index, item in enumerate(alerts):
            if mirrored_incident(item):
                # Our own trigger echoed back by PagerDuty: the incident already exists.
                intake.ignored += 1
                continue
            route = route_for(self._playbook, item)
            if route is None:
                intake.unrouted += 1
                first_unrouted = index if first_unrouted is None else first_unrouted
                continue
            incident_id = incident_id_for(dedup_key(route, item))
            groups[incident_id].append(
                (item.model_copy(update={"severity": route.severity}), route)
            )
        if not groups and intake.unrouted:
            raise UnroutableAlert(
                "No alert route of the playbook matches these labels; "
                "add a route or fix the labels.",
                field=f"alerts.{first_unrouted or 0}.labels",
                unrouted=intake.unrouted,
            )
        return groups, intake

    async def _submit_all(self, work: dict[str, list[Submission[Opening]]]) -> dict[str, bool]:
        # Wide deliveries go out side by side: one after another, 1,000 keys outlast the budget.
        slots = asyncio.Semaphore(self._settings.hook_handoff_concurrency)

        async def one(incident_id: str, items: list[Submission[Opening]]) -> bool:
            async with slots:
                return await self.commit.submit(incident_id, items)

        try:
            async with asyncio.TaskGroup() as group:
                tasks = {key: group.create_task(one(key, items)) for key, items in work.items()}
        except ExceptionGroup as failed:
            raise failed.exceptions[0] from None
        return {key: task.result() for key, task in tasks.items()}

    async def _send(self, incident_id: str, batch: list[Submission[Opening]]) -> bool:
        client = await self._connect()
        payload = AlertBatch(deliveries=[item.delivery for item in batch])
        opening = next((item.opening for item in batch if item.opening is not None), None)
        if opening is None or incident_id in self._running:
            # A plain signal spares Temporal the start request; only a closed run needs one.
            if await _signal_if_open(client, incident_id, payload):
                self._remember(incident_id)
                return True
            self._running.pop(incident_id, None)
            if opening is None:
                return False
        await _signal_with_start(
            client, self._settings, self._snapshot, opening, incident_id, payload
        )
        self._remember(incident_id)
        return True

    def _remember(self, incident_id: str) -> None:
        self._running[incident_id] = None
        self._running.move_to_end(incident_id)
        if len(self._running) > KNOWN_RUNNING:
            self._running.popitem(last=False)


async def _signal_with_start(
    client: Client,
    settings: Settings,
    snapshot: PlaybookSnapshot,
    opening: Opening,
    incident_id: str,
    batch: AlertBatch,
) -> None:
    route, first = opening.route, opening.first
    declaration = Declaration(
        service=route.service,
        severity=route.severity,
        title=first.title,
        actor=first.source,
        source=first.source,
        route=route.id,
        security=route.security,
    )
    inp = IncidentInput(
        declaration=declaration,
        playbook=snapshot,
        auto_resolve=route.auto_resolve,
        auto_escalate=route.auto_escalate,
        page_task_queue=settings.page_task_queue,
        pagerduty_events=settings.pagerduty_provider == "pagerduty",
        on_refire=route.on_refire,
    )
    await client.start_workflow(
        IncidentWorkflow.run,
        inp,
        id=incident_id,
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        start_signal="alert_batch",
        start_signal_args=[batch],
        search_attributes=initial_search_attributes(inp),
        static_summary=incident_summary(declaration, incident_id),
        memo=incident_memo(
            listed_title(declaration, incident_id), snapshot, mirrored=inp.pagerduty_events
        ),
        task_timeout=INCIDENT_TASK_TIMEOUT,
        rpc_timeout=SIGNAL_RPC_TIMEOUT,
    )


async def _signal_if_open(client: Client, incident_id: str, batch: AlertBatch) -> bool:
    """Resolved alerts never open an incident; they only reach one still running."""
    try:
        await client.get_workflow_handle(incident_id).signal(
            IncidentWorkflow.alert_batch, batch, rpc_timeout=SIGNAL_RPC_TIMEOUT
        )
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


def mirrored_incident(item: Alert) -> str | None:
    """The incident id a PagerDuty alert's `mayday:` key claims it mirrors, or None.

    A claim only: `acknowledge_from_source` checks it against the incident.
    """
    key = item.labels.get("incident_key", "") if item.source == "pagerduty" else ""
    return key.removeprefix(MIRROR_PREFIX) if key.startswith(MIRROR_PREFIX) else None


async def acknowledge_from_source(
    client: Client, playbook: Playbook, source: str, alerts: list[Alert]
) -> list[str]:
    """An ack made in PagerDuty acks the open pages of the incident its alert belongs to.

    The alert names that incident one of two ways, and neither is taken on the sender's word:
    a `mayday:<id>` key (our mirror's dedup key) must be an incident id exactly, of an incident
    running with its PagerDuty mirror on; any other alert must route, by the playbook, to an
    incident that holds this very PagerDuty incident as an alert. Anything else acks nothing.
    Incidents are addressed by id only: nothing from the request reaches a visibility query.
    """
    from mayday.pages import ack_page, open_pages

    acked: list[str] = []
    timeout = answer_timeout()
    claims = {claim for item in alerts if (claim := await _belongs_to(client, playbook, item))}
    for incident_id in sorted(claims):
        for page in await open_pages(client, incident_id=incident_id, timeout=timeout):
            with contextlib.suppress(DecisionRejected):
                await ack_page(client, page.id, source, source, timeout=timeout)
                acked.append(incident_id)
    return acked


async def _belongs_to(client: Client, playbook: Playbook, item: Alert) -> str | None:
    claimed = mirrored_incident(item)
    if claimed is not None:
        return claimed if await _mirrors(client, claimed) else None
    incident_id = _incident_of(playbook, item)
    if incident_id is None or not is_incident_id(incident_id):
        return None
    return incident_id if await _holds_alert(client, incident_id, item) else None


async def _mirrors(client: Client, incident_id: str) -> bool:
    """Whether `incident_id` names a running incident whose PagerDuty mirror is on."""
    if not is_incident_id(incident_id):
        return False
    try:
        described = await client.get_workflow_handle(incident_id).describe(
            rpc_timeout=answer_timeout()
        )
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    if described.status != WorkflowExecutionStatus.RUNNING:
        return False
    return (await described.memo()).get(PAGERDUTY_MIRROR_MEMO) is True


async def _holds_alert(client: Client, incident_id: str, item: Alert) -> bool:
    """Whether the incident took `item` (the same PagerDuty incident) among its newest alerts."""
    try:
        status = await client.get_workflow_handle(incident_id).query(
            IncidentWorkflow.status, rpc_timeout=answer_timeout()
        )
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    except WorkflowQueryFailedError:
        return False
    return alert_key(item.fingerprint) in status.alerts


def _incident_of(playbook: Playbook, item: Alert) -> str | None:
    route = route_for(playbook, item)
    return incident_id_for(dedup_key(route, item)) if route else None
