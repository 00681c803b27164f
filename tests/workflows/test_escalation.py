"""EscalationWorkflow on a time-skipping dev server, paging through the real Twilio/SendGrid SDKs.

Levels wait five virtual minutes; the test moves each workflow's clock with `fast_forward`. If
the time-skipping server cannot start (or MAYDAY_TEST_PLAIN_SERVER is set), the session's plain
server is used and durations shrink through `time_scale` instead, the timers firing on their own.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import TimeSkippingConfig, WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from activities.notify import NotifyActivities
from activities.providers import ProviderSet, build_providers
from mayday.devstack import temporal_binary
from tests.fakes import TEST_ACCOUNT_SID, TEST_API_KEY, TEST_AUTH_TOKEN, FakeSendGrid, FakeTwilio
from tests.helpers import assert_eventually
from tests.unit.activities.paging_playbook import PEOPLE, paging_playbook
from worker.client import DATA_CONVERTER
from workflows.escalation import EscalationWorkflow
from workflows.escalation_contracts import (
    AckInput,
    EscalationInput,
    PagePolicy,
    PageStatus,
    PageTarget,
    PolicyLevel,
)

TIME_SKIPPING = ["--dynamic-config-value", "frontend.WorkflowTimeSkippingEnabled=true"]
LEVEL = timedelta(minutes=5)
PLAIN_SERVER_SCALE = 0.006
"""On the plain server a 5-minute level lasts 1.8 s."""


@dataclass
class Clock:
    """Moves a workflow's time: fast-forward on the time-skipping server, real sleep otherwise."""

    env: WorkflowEnvironment
    skipping: bool

    @property
    def time_scale(self) -> float:
        return 1.0 if self.skipping else PLAIN_SERVER_SCALE

    async def advance(self, handle: WorkflowHandle[Any, Any], by: timedelta = LEVEL) -> None:
        if self.skipping:
            await self.env.fast_forward(handle, by + timedelta(seconds=1))
        else:
            await asyncio.sleep((by * self.time_scale).total_seconds() + 0.3)


@pytest_asyncio.fixture(scope="module")
async def clock() -> AsyncIterator[Clock]:
    server: dict[str, Any] = {
        "dev_server_existing_path": str(temporal_binary()),
        "data_converter": DATA_CONVERTER,
        "dev_server_extra_args": TIME_SKIPPING,
    }
    started: WorkflowEnvironment | None = None
    if not os.environ.get("MAYDAY_TEST_PLAIN_SERVER"):
        try:
            started = await WorkflowEnvironment.start_time_skipping_v2(
                ts_config=TimeSkippingConfig(enabled=False), **server
            )
        except Exception:
            started = None
    if started is not None:
        async with started:
            yield Clock(started, skipping=True)
        return
    async with await WorkflowEnvironment.start_local(**server) as plain:
        yield Clock(plain, skipping=False)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@dataclass
class Vendors:
    """The fake Twilio and SendGrid servers and the providers pointed at them."""

    twilio: FakeTwilio
    sendgrid: FakeSendGrid
    providers: ProviderSet

    def sms_to(self, person: str) -> list[str]:
        """Bodies of the SMS the fake accepted for a person."""
        numbers = {c.address for c in PEOPLE[person].channels if c.kind == "sms"}
        return [m.body for m in self.twilio.messages if m.to in numbers]

    def sms_counts(self) -> dict[str, int]:
        """Accepted SMS per test person, pages and notices together."""
        return {p: len(self.sms_to(p)) for p in PEOPLE if self.sms_to(p)}


@pytest.fixture
def vendors(tmp_path: Path) -> Iterator[Vendors]:
    with FakeTwilio() as twilio, FakeSendGrid() as sendgrid:
        providers = build_providers(
            outbox_path=tmp_path / "outbox.jsonl",
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
            timeout=5,
        )
        yield Vendors(twilio, sendgrid, providers)


@asynccontextmanager
async def paging_worker(client: Client, task_queue: str, vendors: Vendors) -> AsyncIterator[None]:
    acts = NotifyActivities(vendors.providers, paging_playbook())
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[EscalationWorkflow],
        activities=[acts.resolve_level, acts.notify],
    ):
        yield


def _policy(*levels: list[str], repeat: int = 0, fallback: str | None = None) -> PagePolicy:
    return PagePolicy(
        id="test-policy",
        levels=[
            PolicyLevel(
                targets=[PageTarget(kind="person", id=person) for person in people],
                ack_timeout=LEVEL,
            )
            for people in levels
        ],
        repeat=repeat,
        fallback=PageTarget(kind="person", id=fallback) if fallback else None,
    )


async def _start(
    clock: Clock, task_queue: str, policy: PagePolicy
) -> WorkflowHandle[EscalationWorkflow, PageStatus]:
    incident = f"inc-{uuid.uuid4().hex[:8]}"
    return await clock.env.client.start_workflow(
        EscalationWorkflow.run,
        EscalationInput(
            incident_id=incident,
            target="checkout-oncall",
            policy=policy,
            time_scale=clock.time_scale,
            summary="Checkout errors above 5%",
            severity="SEV2",
            service="checkout",
        ),
        id=f"{incident}-page-1",
        task_queue=task_queue,
    )


async def _paged(handle: WorkflowHandle[Any, PageStatus], *people: str) -> PageStatus:
    """Wait until exactly these people have been paged and each page is settled."""

    async def check() -> PageStatus:
        status = await handle.query(EscalationWorkflow.page_status)
        assert status.paged == list(people)
        settled = {e.person for e in status.events if e.outcome in ("paged", "failed")}
        assert set(people) <= settled
        return status

    return await assert_eventually(check, timeout=15)


async def _summaries(handle: WorkflowHandle[Any, Any]) -> set[str]:
    """Activity and timer summaries as the Temporal UI shows them."""
    found = set()
    async for event in handle.fetch_history_events():
        if event.HasField("user_metadata") and event.user_metadata.HasField("summary"):
            found.add(json.loads(event.user_metadata.summary.data))
    return found


async def _ack(handle: WorkflowHandle[Any, PageStatus], actor: str) -> None:
    await handle.execute_update(EscalationWorkflow.ack, AckInput(actor=actor, channel="sms"))


async def test_three_unacked_levels_take_seconds_then_page_the_fallback(
    clock: Clock, vendors: Vendors
) -> None:
    queue = str(uuid.uuid4())
    policy = _policy(["ada-first"], ["ben-second"], ["cy-third"], fallback="fay-fallback")
    async with paging_worker(clock.env.client, queue, vendors):
        handle = await _start(clock, queue, policy)
        for paged in (["ada-first"], ["ada-first", "ben-second"]):
            await _paged(handle, *paged)
            await clock.advance(handle)
        await _paged(handle, "ada-first", "ben-second", "cy-third")
        await clock.advance(handle)
        # The fallback gets its own ack window before the page gives up.
        await _paged(handle, "ada-first", "ben-second", "cy-third", "fay-fallback")
        await clock.advance(handle)
        result = await asyncio.wait_for(handle.result(), timeout=20)
    assert result.state == "exhausted"
    assert result.paged == ["ada-first", "ben-second", "cy-third", "fay-fallback"]
    assert [e.outcome for e in result.events if e.outcome != "paged"] == [
        "ack-timeout",
        "ack-timeout",
        "ack-timeout",
        "ack-timeout",
        "exhausted",
    ]
    assert vendors.sms_counts() == dict.fromkeys(result.paged, 1)
    if clock.skipping:
        waited = result.events[-1].at - result.events[0].at
        assert waited >= 3 * LEVEL
    summaries = await _summaries(handle)
    assert "SMS to person, level 2" in summaries and "ack timeout, level 3" in summaries
    assert "SMS to person, fallback" in summaries


async def test_the_fallback_person_can_still_take_the_page(clock: Clock, vendors: Vendors) -> None:
    queue = str(uuid.uuid4())
    policy = _policy(["ada-first"], fallback="fay-fallback")
    async with paging_worker(clock.env.client, queue, vendors):
        handle = await _start(clock, queue, policy)
        await _paged(handle, "ada-first")
        await clock.advance(handle)
        await _paged(handle, "ada-first", "fay-fallback")
        await _ack(handle, "fay-fallback")
        result = await asyncio.wait_for(handle.result(), timeout=20)
    assert (result.state, result.acked_by) == ("acked", "fay-fallback")
    assert "exhausted" not in [e.outcome for e in result.events]


async def test_level_with_nobody_on_call_is_skipped_at_once(clock: Clock, vendors: Vendors) -> None:
    queue = str(uuid.uuid4())
    nobody = PolicyLevel(targets=[PageTarget(kind="rotation", id="nobody-yet")], ack_timeout=LEVEL)
    policy = _policy(["ada-first"]).model_copy(
        update={"levels": [nobody, *_policy(["ada-first"]).levels]}
    )
    async with paging_worker(clock.env.client, queue, vendors):
        handle = await _start(clock, queue, policy)
        status = await _paged(handle, "ada-first")
        await _ack(handle, "ada-first")
        await asyncio.wait_for(handle.result(), timeout=20)
    skipped, paged = status.events[0], status.events[1]
    assert (skipped.level, skipped.outcome, skipped.detail) == (1, "no-one-on-call", "nobody-yet")
    assert (paged.level, paged.outcome, paged.person) == (2, "paged", "ada-first")
    assert paged.at - skipped.at < timedelta(minutes=1)


@pytest.mark.parametrize("acking_level", [1, 2, 3])
async def test_ack_at_each_level_stops_further_pages_and_tells_everyone_paged(
    clock: Clock, vendors: Vendors, acking_level: int
) -> None:
    queue = str(uuid.uuid4())
    people = ["ada-first", "ben-second", "cy-third"]
    async with paging_worker(clock.env.client, queue, vendors):
        handle = await _start(clock, queue, _policy(*([p] for p in people)))
        for level in range(1, acking_level):
            await _paged(handle, *people[:level])
            await clock.advance(handle)
        await _paged(handle, *people[:acking_level])
        acker = people[acking_level - 1]
        await _ack(handle, acker)
        result = await asyncio.wait_for(handle.result(), timeout=20)
    paged = people[:acking_level]
    assert (result.state, result.acked_by, result.paged) == ("acked", acker, paged)
    # Everyone paged hears who has it, except the one who took it.
    notified = {e.person for e in result.events if e.outcome == "notified"}
    assert notified == set(paged) - {acker}
    for person in paged:
        page, *notice = vendors.sms_to(person)
        assert page.startswith("PAGE SEV2")
        if person == acker:
            assert notice == []
        else:
            assert PEOPLE[acker].name in notice[0] and "No action needed" in notice[0]
    assert not vendors.sms_to("dee-fourth")
    assert len(vendors.twilio.messages) == 2 * acking_level - 1


async def test_ack_is_rejected_for_unpaged_people_and_once_someone_has_it(
    clock: Clock, vendors: Vendors
) -> None:
    queue = str(uuid.uuid4())
    async with paging_worker(clock.env.client, queue, vendors):
        handle = await _start(clock, queue, _policy(["ada-first", "ben-second"]))
        await _paged(handle, "ada-first", "ben-second")
        with pytest.raises(WorkflowUpdateFailedError) as unpaged:
            await _ack(handle, "cy-third")
        await _ack(handle, "ben-second")
        with pytest.raises(WorkflowUpdateFailedError) as twice:
            await _ack(handle, "ada-first")
        result = await asyncio.wait_for(handle.result(), timeout=20)
    for caught, words in ((unpaged, "was not paged"), (twice, "Already acknowledged by ben")):
        cause = caught.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == "DecisionRejected"
        assert words in str(cause)
    assert [e.person for e in result.events if e.outcome == "acked"] == ["ben-second"]


async def test_ack_racing_the_next_level_stops_its_pages_in_flight(
    clock: Clock, vendors: Vendors
) -> None:
    queue = str(uuid.uuid4())
    async with paging_worker(clock.env.client, queue, vendors):
        handle = await _start(clock, queue, _policy(["ada-first"], ["ben-second"], ["cy-third"]))
        await _paged(handle, "ada-first")
        # Level 2's SMS is refused for a while, so its page is in flight when the ack lands.
        vendors.twilio.fail_next(20, status=503, code=20503)
        await clock.advance(handle)

        async def level_two_started() -> None:
            status = await handle.query(EscalationWorkflow.page_status)
            assert status.paged == ["ada-first", "ben-second"]

        await assert_eventually(level_two_started)
        await _ack(handle, "ada-first")
        vendors.twilio.reset()
        result = await asyncio.wait_for(handle.result(), timeout=20)
        await asyncio.sleep(1.5)
    outcomes = [(e.person, e.outcome) for e in result.events if e.person == "ben-second"]
    assert ("ben-second", "paged") not in outcomes
    assert ("ben-second", "cancelled") in outcomes
    acked_at = next(e.at for e in result.events if e.outcome == "acked")
    assert not [e for e in result.events if e.outcome == "paged" and e.at > acked_at]
    assert [p for p, n in vendors.sms_counts().items() if n] == ["ada-first", "ben-second"]
    assert all("No action needed" in body for body in vendors.sms_to("ben-second"))
    assert not vendors.sms_to("cy-third")
    replayer = Replayer(workflows=[EscalationWorkflow], data_converter=DATA_CONVERTER)
    await replayer.replay_workflow(await handle.fetch_history())


async def test_worker_restarted_mid_escalation_pages_the_next_level_exactly_once(
    clock: Clock, vendors: Vendors
) -> None:
    queue = str(uuid.uuid4())
    async with paging_worker(clock.env.client, queue, vendors):
        handle = await _start(clock, queue, _policy(["ada-first"], ["ben-second"], ["cy-third"]))
        await _paged(handle, "ada-first")
    async with paging_worker(clock.env.client, queue, vendors):
        await clock.advance(handle)
        await _paged(handle, "ada-first", "ben-second")
        await _ack(handle, "ben-second")
        result = await asyncio.wait_for(handle.result(), timeout=20)
    assert result.state == "acked"
    # Ada: her page and the notice; Ben took it, so only his page.
    assert vendors.sms_counts() == {"ada-first": 2, "ben-second": 1}
    assert [len(vendors.sms_to(p)) for p in ("ada-first", "ben-second")] == [2, 1]
    pages = [r for r in vendors.twilio.requests if (r.field("Body") or "").startswith("PAGE")]
    assert len(pages) == 2


async def test_invalid_number_falls_back_to_email_and_is_recorded(
    clock: Clock, vendors: Vendors
) -> None:
    queue = str(uuid.uuid4())
    async with paging_worker(clock.env.client, queue, vendors):
        handle = await _start(clock, queue, _policy(["bo-badnumber"]))
        await _paged(handle, "bo-badnumber")
        await _ack(handle, "bo-badnumber")
        result = await asyncio.wait_for(handle.result(), timeout=20)
    steps = [(e.channel, e.outcome, e.detail) for e in result.events if e.level == 1]
    assert steps[:2] == [
        ("sms", "failed", "DeliveryInvalidAddress"),
        ("email", "paged", "accepted"),
    ]
    # One page by email; the one who acked gets no handled-by notice.
    assert [mail.recipients for mail in vendors.sendgrid.mails] == [("bo@x.example",)]
    assert not vendors.twilio.messages


async def test_number_that_cannot_take_sms_is_called_instead(
    clock: Clock, vendors: Vendors
) -> None:
    queue = str(uuid.uuid4())
    async with paging_worker(clock.env.client, queue, vendors):
        handle = await _start(clock, queue, _policy(["lee-landline"]))
        await _paged(handle, "lee-landline")
        await _ack(handle, "lee-landline")
        result = await asyncio.wait_for(handle.result(), timeout=20)
    channels = [(e.channel, e.outcome) for e in result.events if e.person == "lee-landline"]
    assert channels[:2] == [("sms", "failed"), ("voice", "paged")]
    # One call, the page: the acker gets no notice, and a notice never rings a phone.
    assert len(vendors.twilio.calls) == 1 and not vendors.sendgrid.mails
    assert "+1500555" not in result.model_dump_json()


async def test_rate_limited_page_is_retried_after_retry_after_without_duplicates(
    clock: Clock, vendors: Vendors
) -> None:
    queue = str(uuid.uuid4())
    vendors.twilio.fail_next(status=429, code=20429, retry_after=1)
    async with paging_worker(clock.env.client, queue, vendors):
        handle = await _start(clock, queue, _policy(["ada-first"]))
        status = await _paged(handle, "ada-first")
        await _ack(handle, "ada-first")
        await asyncio.wait_for(handle.result(), timeout=20)
    page = next(e for e in status.events if e.outcome == "paged")
    assert page.channel == "sms"
    posts = [r for r in vendors.twilio.requests if r.path.endswith("/Messages.json")]
    assert len(posts) == 2  # the 429, then the page (no notice to the acker)
    assert posts[1].at - posts[0].at >= 1.0
    assert len(vendors.sms_to("ada-first")) == 1
