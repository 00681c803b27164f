"""The notify activity: address looked up inside, delivery errors typed for the workflow."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.notify import NotifyActivities
from activities.opt_outs import OptOutRegistry
from activities.providers import ProviderSet, build_providers, read_outbox
from tests.contact_entities import contact_worker
from tests.fakes import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, FakeTwilio
from tests.unit.activities.paging_playbook import BAD_NUMBER, paging_playbook
from workflows.escalation_contracts import NotifyRequest, PageTarget, ResolveLevelRequest


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


def _twilio(fake: FakeTwilio, tmp_path: Path) -> ProviderSet:
    return build_providers(
        outbox_path=tmp_path / "outbox.jsonl",
        sms="twilio",
        voice="twilio",
        twilio_account_sid=TEST_ACCOUNT_SID,
        twilio_auth_token=TEST_AUTH_TOKEN,
        twilio_from_number="+15005550006",
        twilio_base_url=fake.url,
        timeout=2,
    )


def _request(person: str = "ada-first", channel: str = "sms") -> NotifyRequest:
    return NotifyRequest.model_validate(
        {
            "notification_id": f"inc-1-page-1:page:1:1:{person}:{channel}",
            "incident_id": "inc-1",
            "purpose": "page",
            "person": person,
            "channel": channel,
            "level": 1,
            "summary": "Checkout errors above 5%",
            "severity": "SEV2",
            "service": "checkout",
        }
    )


async def test_page_lands_in_the_outbox_once_with_the_directory_address(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.jsonl"
    acts = NotifyActivities(build_providers(outbox_path=outbox), paging_playbook())
    first = await ActivityEnvironment().run(acts.notify, _request())
    again = await ActivityEnvironment().run(acts.notify, _request())
    lines = read_outbox(outbox)
    assert [line["id"] for line in lines] == [first.notification_id]
    assert lines[0]["to"] == {"person": "ada-first", "address": "+15550700"}
    assert lines[0]["body"].startswith("PAGE SEV2")
    assert again.provider_id == first.provider_id


async def test_invalid_number_is_a_non_retryable_typed_error_without_the_number(
    fake_twilio: FakeTwilio, tmp_path: Path
) -> None:
    acts = NotifyActivities(_twilio(fake_twilio, tmp_path), paging_playbook())
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(acts.notify, _request("bo-badnumber"))
    assert caught.value.type == "DeliveryInvalidAddress"
    assert caught.value.non_retryable
    assert BAD_NUMBER not in str(caught.value)


async def test_rate_limit_is_retried_after_the_providers_retry_after(
    fake_twilio: FakeTwilio, tmp_path: Path
) -> None:
    fake_twilio.fail_next(status=429, code=20429, retry_after=3)
    acts = NotifyActivities(_twilio(fake_twilio, tmp_path), paging_playbook())
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(acts.notify, _request())
    assert not caught.value.non_retryable
    assert caught.value.next_retry_delay == timedelta(seconds=3)
    assert len(fake_twilio.messages) == 0


async def test_channel_the_person_lacks_is_a_non_retryable_error(tmp_path: Path) -> None:
    acts = NotifyActivities(build_providers(outbox_path=tmp_path / "o.jsonl"), paging_playbook())
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(acts.notify, _request("ben-second", "email"))
    assert caught.value.type == "DeliveryNoChannel" and caught.value.non_retryable


async def test_resolve_level_activity_uses_the_requested_time(tmp_path: Path) -> None:
    acts = NotifyActivities(build_providers(outbox_path=tmp_path / "o.jsonl"), paging_playbook())
    request = ResolveLevelRequest(
        incident_id="inc-1",
        targets=[PageTarget(kind="team", id="pair"), PageTarget(kind="rotation", id="nobody-yet")],
        at=datetime(2026, 3, 10, tzinfo=UTC),
    )
    resolved = await ActivityEnvironment().run(acts.resolve_level, request)
    assert [m.person for m in resolved.members] == ["ben-second", "cy-third"]
    assert resolved.unresolved == ["nobody-yet"]


async def test_stop_reply_marks_the_contact_opted_out_and_nothing_is_sent_again(
    fake_twilio: FakeTwilio, tmp_path: Path, client: Client
) -> None:
    async with contact_worker(client) as contacts:
        registry = OptOutRegistry.with_data_dir(contacts, tmp_path)
        acts = NotifyActivities(
            _twilio(fake_twilio, tmp_path), paging_playbook(), opt_outs=registry
        )
        with pytest.raises(ApplicationError) as first:
            await ActivityEnvironment().run(acts.notify, _request("sal-stopped"))
        assert (first.value.type, first.value.non_retryable) == ("DeliveryOptedOut", True)
        assert await registry.opted_out("sal-stopped", "sms")
        assert not (tmp_path / "opt_outs.json").exists()  # kept in Temporal, not the data dir
        asked = len(fake_twilio.requests)

        with pytest.raises(ApplicationError) as again:
            await ActivityEnvironment().run(acts.notify, _request("sal-stopped"))
        assert again.value.type == "DeliveryOptedOut"
        assert len(fake_twilio.requests) == asked  # the provider is not asked again
        email = await ActivityEnvironment().run(acts.notify, _request("sal-stopped", "email"))
        assert email.provider == "outbox"
        await registry.clear("sal-stopped", "sms")
        assert not await registry.opted_out("sal-stopped", "sms")
