"""Security pages say only their codename line and the secure channel; notices are the summary."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError

from activities.contacts import ContactBook
from activities.pages import page_text
from activities.providers import (
    DeliveryThrottle,
    DeliveryThrottled,
    OutboxProvider,
    RateLimit,
    ThrottledProvider,
    ThrottlePolicy,
    read_outbox,
)
from activities.providers.throttled import LocalBudget, SharedSendBudget
from playbooks import Playbook
from playbooks.sms import measure_sms
from tests.unit.activities.paging_playbook import paging_playbook
from tests.unit.providers.helpers import outbound
from workflows.codename import codename
from workflows.escalation_contracts import WRONG_CHANNEL, NotifyRequest

INCIDENT = "incident-checkout-3765fed2"
TITLE = "Card numbers readable in checkout logs"
CODENAME_LINE = f"SEV1 security incident {codename(INCIDENT)}"
PURPOSES = ["page", "ack-notice", "stand-down", "notice"]


def _request(**changes: Any) -> NotifyRequest:
    base = NotifyRequest(
        notification_id=f"{INCIDENT}-page-1:page:1:1:ada-first:sms",
        incident_id=INCIDENT,
        purpose="page",
        person="ada-first",
        channel="sms",
        level=1,
        summary=CODENAME_LINE,
        severity="SEV1",
        service="checkout",
        role_name="on-call engineer",
        acked_by="ben-second",
        restricted=True,
    )
    return base.model_copy(update=changes)


def _without_secure_channel() -> Playbook:
    playbook = paging_playbook()
    company = playbook.company.model_copy(update={"secure_channel": None})
    return playbook.model_copy(update={"company": company})


def _everything_said(playbook: Playbook, request: NotifyRequest) -> str:
    text = page_text(playbook, request)
    return " ".join(part or "" for part in (text.subject, text.body, text.html, text.voice_text))


@pytest.mark.parametrize(
    ("purpose", "channel"),
    [
        (purpose, channel)
        for purpose in PURPOSES
        for channel in ("sms", "email", "voice")
        if (purpose, channel) != ("notice", "voice")  # a notice is never a call
    ],
)
def test_a_restricted_message_names_no_title_service_incident_or_link(
    purpose: str, channel: str
) -> None:
    playbook = paging_playbook()
    said = _everything_said(playbook, _request(purpose=purpose, channel=channel))
    assert codename(INCIDENT) in said
    for secret in (TITLE, "Checkout", "checkout", INCIDENT, "http", "://", "Ben Second"):
        assert secret not in said, (secret, said)
    for url in (playbook.company.bridge_url, playbook.company.internal_status_url):
        assert str(url).rstrip("/") not in said


def test_a_restricted_page_sends_everyone_to_the_secure_channel() -> None:
    sms = page_text(paging_playbook(), _request())
    assert sms.body == (
        f"SECURITY PAGE: {CODENAME_LINE}. Join the secure channel #sec-incident-bridge now. "
        "Reply ACK."
    )
    assert measure_sms(sms.body).segments == 1
    email = page_text(paging_playbook(), _request(channel="email"))
    assert (email.subject, email.body, email.html) == (f"SECURITY: {CODENAME_LINE}", sms.body, None)


def test_a_restricted_call_speaks_the_same_words_and_the_provider_asks_for_the_key() -> None:
    voice = page_text(paging_playbook(), _request(channel="voice"))
    assert voice.voice_text == voice.body
    assert codename(INCIDENT) in voice.body and "secure channel" in voice.body
    assert "Reply ACK" not in voice.body and "SEV1" not in voice.body


def test_without_a_secure_channel_the_text_says_the_secure_channel() -> None:
    sms = page_text(_without_secure_channel(), _request())
    assert "Join the secure channel now." in sms.body


def test_restricted_ack_notice_and_stand_down_say_no_action_is_needed() -> None:
    notice = page_text(paging_playbook(), _request(purpose="ack-notice"))
    down = page_text(paging_playbook(), _request(purpose="stand-down", channel="email"))
    assert notice.body == f"Handled: {CODENAME_LINE}. No action needed."
    assert down.body == f"Stand down: {CODENAME_LINE}. No action needed."
    assert down.subject == f"SECURITY stand-down: {CODENAME_LINE}"


def test_the_same_request_unrestricted_would_name_the_incident() -> None:
    # What the restricted texts leave out is really there to leave out.
    open_page = _everything_said(
        paging_playbook(), _request(restricted=False, summary=TITLE, channel="email")
    )
    assert TITLE in open_page and "Checkout" in open_page and INCIDENT in open_page
    assert str(paging_playbook().company.bridge_url).rstrip("/") in open_page


def test_a_long_restricted_summary_is_cut_to_the_segment_limit() -> None:
    playbook = paging_playbook()
    sms = page_text(playbook, _request(summary=CODENAME_LINE + " and more" * 200))
    assert measure_sms(sms.body).segments <= playbook.sms.segment_limit
    assert sms.body.endswith("Join the secure channel #sec-incident-bridge now. Reply ACK.")


def _notice(**changes: Any) -> NotifyRequest:
    fields: dict[str, Any] = {
        "purpose": "notice",
        "restricted": False,
        "summary": "Reminder: the ETA for halting paid ads (Marketing) has passed.",
        "notification_id": f"{INCIDENT}:notice:0:1:ada-first:sms",
    }
    return _request(**(fields | changes))


def test_a_notice_is_its_summary_by_sms_and_email() -> None:
    sms = page_text(paging_playbook(), _notice())
    email = page_text(paging_playbook(), _notice(channel="email"))
    assert sms.body == _notice().summary and sms.subject is None
    assert email.body == _notice().summary
    assert email.subject == "mayday: " + _notice().summary[:60].rstrip()


def test_a_notice_email_subject_is_one_line_of_at_most_sixty_characters() -> None:
    email = page_text(paging_playbook(), _notice(channel="email", summary="Elapsed\n" * 30))
    assert email.subject is not None and "\n" not in email.subject
    assert len(email.subject.removeprefix("mayday: ")) <= 60


@pytest.mark.parametrize("segment_limit", [1, 3])
def test_a_long_notice_sms_fits_the_segment_limit(segment_limit: int) -> None:
    playbook = paging_playbook()
    playbook = playbook.model_copy(
        update={"sms": playbook.sms.model_copy(update={"segment_limit": segment_limit})}
    )
    summary = "Elapsed time: 40 minutes since declaration. " * 40
    sms = page_text(playbook, _notice(summary=summary))
    assert measure_sms(sms.body).segments <= segment_limit
    assert sms.body.startswith("Elapsed time: 40 minutes") and sms.body.endswith("...")


@pytest.mark.parametrize("restricted", [False, True])
def test_a_notice_by_voice_is_refused_and_not_retried(restricted: bool) -> None:
    with pytest.raises(ApplicationError) as refused:
        page_text(paging_playbook(), _notice(channel="voice", restricted=restricted))
    assert refused.value.type == WRONG_CHANNEL and refused.value.non_retryable
    assert "never a phone call" in str(refused.value)


def test_a_restricted_notice_names_only_the_codename_and_the_secure_channel() -> None:
    sms = page_text(paging_playbook(), _notice(restricted=True, summary=CODENAME_LINE))
    email = page_text(
        paging_playbook(), _notice(restricted=True, summary=CODENAME_LINE, channel="email")
    )
    expected = f"SECURITY NOTICE: {CODENAME_LINE}. Details only in the secure channel "
    assert sms.body == expected + "#sec-incident-bridge."
    assert email.subject == f"SECURITY notice: {CODENAME_LINE}"


async def test_notices_do_not_use_up_the_local_page_budget(tmp_path: object) -> None:
    outbox = OutboxProvider.in_data_dir(str(tmp_path))
    policy = ThrottlePolicy(per_destination={"sms": RateLimit(1, timedelta(minutes=15))})
    provider = ThrottledProvider(outbox, LocalBudget(DeliveryThrottle(policy)))
    await provider.send(outbound("sms", id="n-notice", purpose="notice"))
    await provider.send(outbound("sms", id="n-page"))
    await provider.send(outbound("sms", id="n-notice-2", purpose="notice"))
    with pytest.raises(DeliveryThrottled):
        await provider.send(outbound("sms", id="n-page-2"))
    assert [e["id"] for e in read_outbox(outbox.path)] == ["n-notice", "n-page", "n-notice-2"]


class _FullBudget(ContactBook):
    """A contact book whose per-number budget is always spent; it counts who asked."""

    def __init__(self) -> None:
        super().__init__(self._no_client, "unused")
        self.asked: list[str] = []

    @staticmethod
    async def _no_client() -> Any:
        raise AssertionError("no Temporal client in this test")

    async def admit(
        self, person: str, channel: str, notification_id: str, *, count: int, per: timedelta
    ) -> timedelta:
        self.asked.append(notification_id)
        return timedelta(minutes=15)


async def test_notices_skip_the_shared_per_number_budget(tmp_path: object) -> None:
    outbox = OutboxProvider.in_data_dir(str(tmp_path))
    contacts = _FullBudget()
    budget = SharedSendBudget(contacts, {"sms": RateLimit(1, timedelta(minutes=15))})
    provider = ThrottledProvider(outbox, budget)
    await provider.send(outbound("sms", id="n-notice", purpose="notice"))
    with pytest.raises(DeliveryThrottled):
        await provider.send(outbound("sms", id="n-page"))
    assert contacts.asked == ["n-page"]
    assert [e["id"] for e in read_outbox(outbox.path)] == ["n-notice"]
