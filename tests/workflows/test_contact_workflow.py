"""ContactWorkflow on the session's dev server: one budget and one opt-out for every host."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from activities.contacts import ContactUnavailable
from activities.providers import (
    Channel,
    DeliveryThrottled,
    OutboxProvider,
    PermanentDeliveryError,
    RateLimit,
    read_outbox,
)
from activities.providers.throttled import SharedSendBudget, ThrottledProvider
from tests.contact_entities import book_for
from tests.unit.providers.helpers import outbound
from worker.client import DATA_CONVERTER
from workflows.contact_contracts import (
    ContactIdError,
    ContactState,
    contact_workflow_id,
    is_contact_id,
)
from workflows.contacts import ContactWorkflow

TWO_PER_MINUTE: dict[Channel, RateLimit] = {"sms": RateLimit(2, timedelta(minutes=1))}


def person() -> str:
    """A directory id no other test's contact uses."""
    return f"p-{uuid.uuid4().hex[:10]}"


async def second_host(client: Client) -> Client:
    """A separate connection, as another host would open."""
    target = client.service_client.config.target_host
    return await Client.connect(target, data_converter=DATA_CONVERTER)


def test_contact_ids_are_hashes_of_directory_ids_and_never_hold_them() -> None:
    workflow_id = contact_workflow_id("dana-reyes", "sms")

    assert is_contact_id(workflow_id) and "dana" not in workflow_id
    assert workflow_id != contact_workflow_id("dana-reyes", "voice")
    for person_id, channel in (("+15558675310", "sms"), ("dana@acme.example", "sms"), ("", "sms")):
        with pytest.raises(ContactIdError) as caught:
            contact_workflow_id(person_id, channel)
        assert person_id not in str(caught.value) or not person_id
    with pytest.raises(ContactIdError):
        contact_workflow_id("dana-reyes", "email")


async def test_two_workers_and_two_hosts_share_one_per_number_budget(
    client: Client, tmp_path: object
) -> None:
    queue = f"contacts-{uuid.uuid4().hex[:8]}"
    other = await second_host(client)
    who = person()
    outbox = OutboxProvider.in_data_dir(str(tmp_path))
    hosts = [
        ThrottledProvider(outbox, SharedSendBudget(book_for(c, queue), TWO_PER_MINUTE))
        for c in (client, other)
    ]
    async with (
        Worker(client, task_queue=queue, workflows=[ContactWorkflow]),
        Worker(other, task_queue=queue, workflows=[ContactWorkflow]),
    ):
        await hosts[0].send(outbound(id="n-1", person=who))
        await hosts[1].send(outbound(id="n-2", person=who))
        await hosts[1].send(outbound(id="n-1", person=who))  # a retry of n-1 costs nothing
        for host in hosts:
            with pytest.raises(DeliveryThrottled) as caught:
                await host.send(outbound(id="n-3", person=who))
            wait = caught.value.retry_after
            assert wait is not None and timedelta(seconds=50) < wait <= timedelta(minutes=1)
        await hosts[0].send(outbound(id="n-4", person=who, purpose="ack-notice"))
        await hosts[1].send(outbound(id="n-5", person=who, purpose="stand-down"))
        await hosts[0].send(outbound(id="n-6", person=person()))  # another number, its own

    # The outbox keeps one line per notification id, so the retry of n-1 adds none.
    assert [e["id"] for e in read_outbox(outbox.path)] == ["n-1", "n-2", "n-4", "n-5", "n-6"]


async def test_an_opted_out_contact_is_refused_before_the_provider_is_asked(
    client: Client, tmp_path: object
) -> None:
    queue = f"contacts-{uuid.uuid4().hex[:8]}"
    who = person()
    contacts = book_for(client, queue)
    outbox = OutboxProvider.in_data_dir(str(tmp_path))
    provider = ThrottledProvider(outbox, SharedSendBudget(contacts, TWO_PER_MINUTE))
    async with Worker(client, task_queue=queue, workflows=[ContactWorkflow]):
        await contacts.change_opt_out(who, "sms", opted_out=True, reply_id="SM" + "a" * 32)
        with pytest.raises(PermanentDeliveryError) as caught:
            await provider.send(outbound(id="n-1", person=who))
        assert caught.value.to_application_error().type == "DeliveryOptedOut"
        assert who not in str(caught.value)

    assert read_outbox(outbox.path) == []


async def test_a_stop_is_durable_without_a_worker_and_reads_fail_safe_until_one_answers(
    client: Client,
) -> None:
    queue = f"contacts-{uuid.uuid4().hex[:8]}"
    who = person()
    hurried = book_for(client, queue, timeout=timedelta(seconds=1))

    await hurried.change_opt_out(who, "sms", opted_out=True)  # no worker polls the queue yet
    with pytest.raises(ContactUnavailable) as caught:
        await hurried.opted_out(who, "sms")
    assert who not in str(caught.value)
    with pytest.raises(ContactUnavailable):
        await hurried.admit(who, "sms", "n-1", count=5, per=timedelta(minutes=15))

    async with Worker(client, task_queue=queue, workflows=[ContactWorkflow]):
        assert await hurried.opted_out(who, "sms")


async def test_replayed_replies_change_nothing_and_answer_as_the_first_time(
    client: Client,
) -> None:
    queue = f"contacts-{uuid.uuid4().hex[:8]}"
    who = person()
    contacts = book_for(client, queue)
    stop, start, ack = ("SM" + c * 32 for c in "abc")
    async with Worker(client, task_queue=queue, workflows=[ContactWorkflow]):
        await contacts.change_opt_out(who, "sms", opted_out=True, reply_id=stop)
        await contacts.change_opt_out(who, "sms", opted_out=False, reply_id=start)
        await contacts.change_opt_out(who, "sms", opted_out=True, reply_id=stop)
        assert not await contacts.opted_out(who, "sms")

        assert (await contacts.claim_reply(who, "sms", ack)).fresh
        pending = await contacts.claim_reply(who, "sms", ack)
        assert (pending.fresh, pending.answer) == (False, None)
        await contacts.answer_reply(who, "sms", ack, "<Message>Acknowledged.</Message>")
        replay = await contacts.claim_reply(who, "sms", ack)
        assert (replay.fresh, replay.answer) == (False, "<Message>Acknowledged.</Message>")

        released = "SM" + "d" * 32
        assert (await contacts.claim_reply(who, "sms", released)).fresh
        await contacts.release_reply(who, "sms", released)
        assert (await contacts.claim_reply(who, "sms", released)).fresh


async def test_a_contact_continues_as_new_carrying_its_state(client: Client) -> None:
    queue = f"contacts-{uuid.uuid4().hex[:8]}"
    who = person()
    contacts = book_for(client, queue)
    await client.start_workflow(
        ContactWorkflow.run,
        ContactState(messages_per_run=3),
        id=contact_workflow_id(who, "sms"),
        task_queue=queue,
    )
    async with Worker(client, task_queue=queue, workflows=[ContactWorkflow]):
        await contacts.change_opt_out(who, "sms", opted_out=True, reply_id="SM" + "e" * 32)
        for n in range(7):
            await contacts.claim_reply(who, "sms", f"SM{n:032d}")
        view = await client.get_workflow_handle(contact_workflow_id(who, "sms")).query(
            ContactWorkflow.view
        )
        replay = await contacts.claim_reply(who, "sms", f"SM{0:032d}")

    assert view.runs >= 3 and view.opted_out and view.replies_remembered == 8
    assert not replay.fresh
