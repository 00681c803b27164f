"""Every message once: ambiguous sends are "possibly sent", repeats at renotify_every, notices.

The real Twilio and SendGrid SDKs talk to fakes on 127.0.0.1; the fake Twilio can carry out a
request (the message is created) and then hold its answer past the client's timeout.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Replayer, Worker

import activities.notify as notify_module
from activities.notify import NotifyActivities
from activities.providers import ProviderSet, build_providers
from activities.providers.throttle import DeliveryThrottle, RateLimit, ThrottlePolicy
from tests.fakes import TEST_ACCOUNT_SID, TEST_API_KEY, TEST_AUTH_TOKEN, FakeSendGrid, FakeTwilio
from tests.helpers import assert_eventually
from tests.unit.activities.paging_playbook import PEOPLE, paging_playbook
from tests.workflows import test_escalation as base
from worker.client import DATA_CONVERTER
from workflows.escalation import EscalationWorkflow
from workflows.escalation_contracts import (
    AckInput,
    EscalationInput,
    FirstLevelPaged,
    FirstPageRequest,
    LevelMember,
    PagePolicy,
    PageStatus,
    PageTarget,
    PolicyLevel,
    ResolveLevelRequest,
)

Clock = base.Clock
Vendors = base.Vendors
clock = base.clock
_no_proxy = base._no_proxy

LEVEL = base.LEVEL
CALLBACKS = "http://127.0.0.1:9/hooks"
"""Status callbacks carry the notification id; nothing listens there (the fake logs the miss)."""
CLIENT_TIMEOUT = 0.5


@pytest.fixture
def vendors() -> Iterator[Vendors]:
    """Fakes and providers whose HTTP calls give up after CLIENT_TIMEOUT seconds."""
    with FakeTwilio() as twilio, FakeSendGrid() as sendgrid:
        yield Vendors(twilio, sendgrid, providers(twilio, sendgrid, timeout=CLIENT_TIMEOUT))


def providers(
    twilio: FakeTwilio,
    sendgrid: FakeSendGrid,
    *,
    timeout: float,
    throttle: DeliveryThrottle | None = None,
) -> ProviderSet:
    """SMS and voice through the fake Twilio, email through the fake SendGrid."""
    return build_providers(
        outbox_path=Path("/nonexistent/outbox.jsonl"),
        sms="twilio",
        voice="twilio",
        email="sendgrid",
        twilio_account_sid=TEST_ACCOUNT_SID,
        twilio_auth_token=TEST_AUTH_TOKEN,
        twilio_from_number="+15005550006",
        twilio_base_url=twilio.url,
        sendgrid_api_key=TEST_API_KEY,
        sendgrid_from_email="pages@acme.example",
        sendgrid_host=sendgrid.url,
        timeout=timeout,
        throttle=throttle,
    )


@asynccontextmanager
async def worker(
    client: Client, queue: str, vendors: Vendors, *, using: ProviderSet | None = None
) -> AsyncIterator[None]:
    acts = NotifyActivities(using or vendors.providers, paging_playbook(), callback_url=CALLBACKS)
    async with Worker(
        client,
        task_queue=queue,
        workflows=[EscalationWorkflow],
        activities=[acts.resolve_level, acts.notify],
    ):
        yield


def policy(
    *levels: list[str], renotify: timedelta | None = None, level: timedelta = LEVEL
) -> PagePolicy:
    return PagePolicy(
        id="test-policy",
        levels=[
            PolicyLevel(
                targets=[PageTarget(kind="person", id=p) for p in people], ack_timeout=level
            )
            for people in levels
        ],
        renotify_every=renotify,
    )


async def start(
    clock: Clock, queue: str, page_policy: PagePolicy, first: FirstLevelPaged | None = None
) -> WorkflowHandle[EscalationWorkflow, PageStatus]:
    incident = f"inc-{uuid.uuid4().hex[:8]}"
    return await clock.env.client.start_workflow(
        EscalationWorkflow.run,
        EscalationInput(
            incident_id=incident,
            target="checkout-oncall",
            policy=page_policy,
            time_scale=clock.time_scale,
            summary="Checkout errors above 5%",
            severity="SEV2",
            service="checkout",
            first_level=first,
        ),
        id=f"{incident}-page-1",
        task_queue=queue,
    )


async def settled(handle: WorkflowHandle[Any, PageStatus], *people: str) -> PageStatus:
    """Wait until each of these people has a settled first send (paged, possibly, failed)."""

    async def check() -> PageStatus:
        status = await handle.query(EscalationWorkflow.page_status)
        done = {
            e.person for e in status.events if e.outcome in ("paged", "possibly-sent", "failed")
        }
        assert set(people) <= done
        return status

    return await assert_eventually(check, timeout=20)


def notification_ids(fake: FakeTwilio | FakeSendGrid) -> Counter[str]:
    """Requests the fake received per notification id (from the status callback address)."""
    found: Counter[str] = Counter()
    for request in fake.requests:
        callback = request.field("StatusCallback") or request.field("Url") or ""
        for nid in parse_qs(urlsplit(callback).query).get("notification", []):
            found[nid] += 1
    return found


def sms_to(vendors: Vendors, person: str) -> list[str]:
    numbers = {c.address for c in PEOPLE[person].channels if c.kind == "sms"}
    return [m.body for m in vendors.twilio.messages if m.to in numbers]


async def test_sends_that_time_out_after_receipt_are_possibly_sent_and_never_sent_twice(
    clock: Clock, vendors: Vendors
) -> None:
    """Acceptance 1: 30% of Twilio requests are carried out and never answered."""
    vendors.twilio.hang(0.3, seconds=2.0, seed=7)
    levels = [["ada-first", "ben-second"], ["cy-third", "dee-fourth"], ["fay-fallback"]]
    queue = str(uuid.uuid4())
    async with worker(clock.env.client, queue, vendors):
        handle = await start(clock, queue, policy(*levels))
        for level in levels:
            await settled(handle, *level)
            await clock.advance(handle)
        result = await asyncio.wait_for(handle.result(), timeout=30)
        await asyncio.sleep(2.5)  # every held answer has ended
    assert result.state == "exhausted"
    sends = notification_ids(vendors.twilio)
    assert sends and max(sends.values()) == 1, sends
    hung = len(vendors.twilio.hung)
    assert hung >= 1, "the seed must hang at least one request"
    possibly = [e for e in result.events if e.outcome == "possibly-sent"]
    assert result.possibly_sent == len(possibly) == hung
    for event in possibly:
        # A possibly-sent page counts as reached: no other channel, no second send.
        later = [
            e
            for e in result.events
            if e.person == event.person and e.level == event.level and e.at >= event.at
        ]
        assert [e.outcome for e in later] == ["possibly-sent"]
    for person in {p for level in levels for p in level}:
        # Nobody is paged twice for one level (each is in one level here).
        assert len(sms_to(vendors, person)) == 1, person
    await Replayer(workflows=[EscalationWorkflow], data_converter=DATA_CONVERTER).replay_workflow(
        await handle.fetch_history()
    )


async def test_a_slow_send_heartbeats_and_is_not_mistaken_for_a_dead_worker(
    clock: Clock, vendors: Vendors
) -> None:
    """A 4 s answer outlives the 3 s heartbeat timeout only because the send heartbeats."""
    slow = providers(vendors.twilio, vendors.sendgrid, timeout=10)
    vendors.twilio.latency = 4.0
    queue = str(uuid.uuid4())
    async with worker(clock.env.client, queue, vendors, using=slow):
        handle = await start(clock, queue, policy(["ben-second"]))
        status = await settled(handle, "ben-second")
        await handle.execute_update(EscalationWorkflow.ack, AckInput(actor="ben-second"))
        await asyncio.wait_for(handle.result(), timeout=20)
    assert [e.outcome for e in status.events if e.person == "ben-second"] == ["paged"]
    assert len(vendors.twilio.requests) == 1


async def test_the_page_workflow_pages_only_whom_the_first_page_did_not_reach(
    clock: Clock, vendors: Vendors
) -> None:
    first = FirstLevelPaged(
        at=datetime.now(UTC),
        members=[
            LevelMember(person="ada-first", slot="on-call", channels=["sms", "email"]),
            LevelMember(person="ben-second", slot="on-call", channels=["sms"]),
            LevelMember(person="lee-landline", slot="on-call", channels=["sms", "email"]),
        ],
        reached={"ada-first": "sms"},
        possibly_sent={"ben-second": "sms"},
        failed={"lee-landline": "DeliveryRetryable"},
    )
    queue = str(uuid.uuid4())
    async with worker(clock.env.client, queue, vendors):
        handle = await start(
            clock, queue, policy(["ada-first", "ben-second", "lee-landline"]), first
        )
        await settled(handle, "ada-first", "ben-second", "lee-landline")

        async def emailed() -> None:
            assert len(vendors.sendgrid.mails) == 1

        await assert_eventually(emailed, timeout=10)
        await handle.execute_update(EscalationWorkflow.ack, AckInput(actor="ada-first"))
        result = await asyncio.wait_for(handle.result(), timeout=20)
    steps = {(e.person, e.channel, e.outcome) for e in result.events if e.level == 1}
    assert ("ben-second", "sms", "possibly-sent") in steps
    assert ("lee-landline", "email", "paged") in steps
    assert result.possibly_sent == 1
    pages = [m for m in vendors.twilio.messages if m.body.startswith("PAGE")]
    assert pages == []  # Ada reached and Ben possibly reached: neither texted again


async def test_first_page_gives_each_person_a_deadline_and_reports_possibly_sent(
    vendors: Vendors, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One slow send does not make the first page fail for everyone it reached."""
    monkeypatch.setattr(notify_module, "FIRST_SEND_DEADLINE", 0.3)
    slow = FakeTwilio()
    with slow:
        slow.latency = 3.0
        through_slow = providers(slow, vendors.sendgrid, timeout=10)
        playbook = paging_playbook().model_copy(deep=True)
        # Ada's first channel is email (fast), Ben's is SMS (slow).
        ada = playbook.directory.people["ada-first"]
        ada.channels.reverse()
        acts = NotifyActivities(through_slow, playbook)
        request = FirstPageRequest(
            level=ResolveLevelRequest(
                incident_id="inc-1",
                targets=[PageTarget(kind="person", id=p) for p in ("ada-first", "ben-second")],
                at=datetime.now(UTC),
            ),
            page_id="inc-1-page-1",
            summary="Checkout errors",
        )
        env = ActivityEnvironment()
        env.info = dataclasses.replace(env.info, is_local=True)
        paged: FirstLevelPaged = await env.run(acts.first_page, request)
    assert paged.reached == {"ada-first": "email"}
    assert paged.possibly_sent == {"ben-second": "sms"}
    assert paged.failed == {}


async def test_an_sms_page_repeats_every_renotify_interval_until_the_ack(
    clock: Clock, vendors: Vendors
) -> None:
    """Acceptance 2: repeats with their own ids, to everyone reached by SMS, until the ack."""
    every = timedelta(minutes=1)
    queue = str(uuid.uuid4())
    async with worker(clock.env.client, queue, vendors):
        handle = await start(
            clock, queue, policy(["ben-second", "cy-third", "bo-badnumber"], renotify=every)
        )
        await settled(handle, "ben-second", "cy-third", "bo-badnumber")
        for repeat in (1, 2, 3):
            await clock.advance(handle, every - timedelta(seconds=1))

            async def repeated(n: int = repeat) -> None:
                status = await handle.query(EscalationWorkflow.page_status)
                again = [e for e in status.events if e.outcome == "renotified"]
                assert len(again) == 2 * n

            await assert_eventually(repeated, timeout=10)
        await handle.execute_update(EscalationWorkflow.ack, AckInput(actor="cy-third"))
        result = await asyncio.wait_for(handle.result(), timeout=20)
        sent = len(vendors.twilio.messages)
        await asyncio.sleep(1.0)
    assert len(vendors.twilio.messages) == sent  # nothing after the ack
    repeats = [e for e in result.events if e.outcome == "renotified"]
    assert {e.person for e in repeats} == {"ben-second", "cy-third"}
    ids = [e.notification_id for e in result.events if e.notification_id]
    assert len(ids) == len(set(ids))
    ben = sms_to(vendors, "ben-second")
    cy = sms_to(vendors, "cy-third")
    assert len(ben) == 1 + 3 + 1 and "No action needed" in ben[-1]  # page, repeats, notice
    assert len(cy) == 1 + 3  # the acker hears no notice
    # Bo was reached by email: the page goes once, then the handled-by notice.
    mails = [
        json.dumps(m.payload) for m in vendors.sendgrid.mails if "bo@x.example" in m.recipients
    ]
    assert [":ack-notice:" in mail for mail in mails] == [False, True]
    assert max(notification_ids(vendors.twilio).values()) == 1
    await Replayer(workflows=[EscalationWorkflow], data_converter=DATA_CONVERTER).replay_workflow(
        await handle.fetch_history()
    )


async def test_a_repeat_over_the_per_number_budget_is_skipped_not_queued(
    clock: Clock, vendors: Vendors
) -> None:
    if not clock.skipping:
        pytest.skip("needs virtual time: the budget window is real time")
    every = timedelta(minutes=1)
    throttle = DeliveryThrottle(
        ThrottlePolicy(per_destination={"sms": RateLimit(2, timedelta(hours=1))}, per_channel={})
    )
    queue = str(uuid.uuid4())
    budgeted = providers(
        vendors.twilio, vendors.sendgrid, timeout=CLIENT_TIMEOUT, throttle=throttle
    )
    async with worker(clock.env.client, queue, vendors, using=budgeted):
        handle = await start(clock, queue, policy(["ben-second"], renotify=every))
        await settled(handle, "ben-second")
        for _ in range(3):
            await clock.advance(handle, every - timedelta(seconds=1))
        status = await assert_eventually(
            lambda: _outcomes(handle, {"renotified", "skipped"}, 2), timeout=10
        )
        await handle.execute_update(EscalationWorkflow.ack, AckInput(actor="ben-second"))
        await asyncio.wait_for(handle.result(), timeout=20)
    repeats = [
        (e.outcome, e.detail) for e in status.events if e.outcome in ("renotified", "skipped")
    ]
    assert repeats[0][0] == "renotified"
    assert ("skipped", "DeliveryThrottled") in repeats
    assert len(sms_to(vendors, "ben-second")) == 2  # the budget: page and one repeat


async def _outcomes(
    handle: WorkflowHandle[Any, PageStatus], outcomes: set[str], at_least: int
) -> PageStatus:
    status = await handle.query(EscalationWorkflow.page_status)
    assert len([e for e in status.events if e.outcome in outcomes]) >= at_least
    return status


async def test_ack_notices_go_by_sms_or_email_never_by_phone_and_never_to_the_acker(
    clock: Clock, vendors: Vendors
) -> None:
    queue = str(uuid.uuid4())
    async with worker(clock.env.client, queue, vendors):
        handle = await start(clock, queue, policy(["ada-first", "lee-landline"]))
        await settled(handle, "ada-first", "lee-landline")
        await handle.execute_update(EscalationWorkflow.ack, AckInput(actor="ada-first"))
        result = await asyncio.wait_for(handle.result(), timeout=20)
    notices = [(e.person, e.channel) for e in result.events if e.outcome == "notified"]
    # Lee's SMS cannot reach a landline; the notice goes by email, not by a call.
    assert notices == [("lee-landline", "email")]
    assert len(vendors.twilio.calls) == 1  # Lee's page only
    assert len(sms_to(vendors, "ada-first")) == 1
