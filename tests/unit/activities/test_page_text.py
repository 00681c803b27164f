"""The words of a page and of its handled-by notice."""

from __future__ import annotations

from activities.pages import page_text
from tests.unit.activities.paging_playbook import paging_playbook
from workflows.escalation_contracts import NotifyRequest


def _request(**changes: object) -> NotifyRequest:
    base = NotifyRequest(
        notification_id="inc-1-page-1:page:1:1:ada-first:sms",
        incident_id="inc-1",
        purpose="page",
        person="ada-first",
        channel="sms",
        level=1,
        summary="Checkout errors above 5%",
        severity="SEV2",
        service="checkout",
        role_name="on-call engineer",
    )
    return base.model_copy(update=changes)


def test_page_sms_is_rendered_from_the_playbook_template() -> None:
    text = page_text(paging_playbook(), _request())
    assert text.body.startswith("PAGE SEV2 on-call engineer: Checkout errors above 5%")
    assert "ACK" in text.body


def test_page_email_has_a_subject_and_html() -> None:
    text = page_text(paging_playbook(), _request(channel="email"))
    assert text.subject is not None and "Checkout errors above 5%" in text.subject
    assert text.html is not None and "mayday ack inc-1" in text.html


def test_voice_page_sets_the_spoken_text() -> None:
    text = page_text(paging_playbook(), _request(channel="voice"))
    assert text.voice_text == text.body
    assert "Press 1 to acknowledge" in text.body


def test_ack_notice_names_who_took_the_page() -> None:
    text = page_text(paging_playbook(), _request(purpose="ack-notice", acked_by="ben-second"))
    assert "Ben Second" in text.body and "No action needed" in text.body


def test_page_without_severity_falls_back_to_plain_text() -> None:
    page = page_text(paging_playbook(), _request(severity=None))
    notice = page_text(
        paging_playbook(), _request(severity=None, purpose="ack-notice", acked_by="ben-second")
    )
    assert page.body.startswith("PAGE (level 1): Checkout errors above 5%")
    assert notice.body.startswith("Handled by Ben Second: Checkout errors above 5%")
