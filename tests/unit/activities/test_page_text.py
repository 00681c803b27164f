"""The words of a page and of its handled-by notice."""

from __future__ import annotations

import pytest

from activities.pages import page_text
from playbooks.sms import measure_sms
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


def test_page_sms_reads_the_title_once_in_one_segment() -> None:
    # The workflow's summary leads with severity and service, which the template prints itself.
    summary = "SEV2 Checkout: Checkout errors above 5%"
    text = page_text(paging_playbook(), _request(summary=summary))
    assert text.body.count("Checkout errors above 5%") == 1
    assert "SEV2 Checkout:" not in text.body
    assert len(text.body) <= 160


def test_page_voice_reads_the_title_once() -> None:
    summary = "SEV2 checkout: Checkout errors above 5%"
    text = page_text(paging_playbook(), _request(summary=summary, channel="voice"))
    assert text.body.count("Checkout errors above 5%") == 1


def _stand_down(channel: str) -> NotifyRequest:
    return _request(
        purpose="stand-down",
        channel=channel,
        level=0,
        summary="SEV2 Checkout: Checkout errors above 5%",
        notification_id=f"inc-1-page-1:stand-down:0:1:ada-first:{channel}",
    )


def test_stand_down_sms_says_resolved_and_nothing_to_do() -> None:
    text = page_text(paging_playbook(), _stand_down("sms"))
    assert text.body.startswith("Stand down:")
    assert "Checkout errors above 5%" in text.body and "resolved" in text.body
    assert "No action needed" in text.body and "ACK" not in text.body
    assert len(text.body) <= 160


def test_stand_down_voice_is_spoken_without_a_keypress() -> None:
    text = page_text(paging_playbook(), _stand_down("voice"))
    assert text.voice_text == text.body
    assert "resolved" in text.body and "No action is needed" in text.body
    assert "Press 1" not in text.body


def test_stand_down_email_has_a_resolved_subject() -> None:
    text = page_text(paging_playbook(), _stand_down("email"))
    assert text.subject == "RESOLVED [SEV2] Checkout errors above 5%"
    assert "is resolved" in text.body and "No action is needed" in text.body


def test_stand_down_without_the_template_is_plain_text() -> None:
    playbook = paging_playbook()
    bare = playbook.model_copy(
        update={
            "templates": {k: v for k, v in playbook.templates.items() if k != "page_stand_down"}
        }
    )
    sms = page_text(bare, _stand_down("sms"))
    voice = page_text(bare, _stand_down("voice"))
    email = page_text(bare, _stand_down("email"))
    expected = "Stand down: SEV2 Checkout: Checkout errors above 5% is resolved. No action needed."
    assert sms.body == expected and sms.subject is None
    assert voice.voice_text == expected
    assert email.subject == "Resolved: SEV2 Checkout: Checkout errors above 5%"


LONG_TITLE = "Checkout errors above 5% " + "and still climbing " * 150
HUGE_UNICODE_TITLE = "Paiements refusés — " * 200


def _sms_fits(body: str, segments: int = 3) -> bool:
    return measure_sms(body).segments <= segments and len(body) <= 1_600


@pytest.mark.parametrize("purpose", ["page", "ack-notice", "stand-down"])
@pytest.mark.parametrize("title", [LONG_TITLE, HUGE_UNICODE_TITLE])
@pytest.mark.parametrize("templated", [True, False])
def test_a_long_title_is_cut_to_the_segment_limit(
    purpose: str, title: str, templated: bool
) -> None:
    playbook = paging_playbook()
    if not templated:
        playbook = playbook.model_copy(update={"templates": {}})
    short = page_text(playbook, _request(purpose=purpose, acked_by="ben-second"))
    text = page_text(
        playbook,
        _request(purpose=purpose, acked_by="ben-second", summary=f"SEV2 Checkout: {title}"),
    )
    assert _sms_fits(text.body, playbook.sms.segment_limit), measure_sms(text.body)
    assert not _sms_fits(title.replace("—", "-"), playbook.sms.segment_limit)
    assert title[:20] in text.body
    # What follows the title (the ack instruction, the link, "No action needed") is kept.
    assert short.body.rsplit(" ", 3)[-1] in text.body
    if purpose == "page":
        assert ("ACK" in text.body) and ("mayday ack inc-1" in text.body or templated)


def test_a_page_sms_keeps_the_bridge_link_when_the_title_is_cut() -> None:
    playbook = paging_playbook()
    text = page_text(playbook, _request(summary=f"SEV2 Checkout: {LONG_TITLE}"))
    assert str(playbook.company.bridge_url).rstrip("/") in text.body


def test_a_smaller_segment_limit_is_held_too() -> None:
    playbook = paging_playbook()
    one = playbook.model_copy(update={"sms": playbook.sms.model_copy(update={"segment_limit": 1})})
    text = page_text(one, _request(summary=f"SEV2 Checkout: {LONG_TITLE}"))
    assert measure_sms(text.body).segments == 1 and "ACK" in text.body


def test_a_short_title_is_never_cut() -> None:
    text = page_text(paging_playbook(), _request())
    assert "..." not in text.body and "Checkout errors above 5%" in text.body


def test_email_and_voice_are_not_cut_to_sms_segments() -> None:
    title = "Checkout errors above 5% " * 12
    email = page_text(paging_playbook(), _request(channel="email", summary=title))
    assert email.subject is not None and title.strip() in email.body
