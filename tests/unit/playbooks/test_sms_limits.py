"""Rendered SMS bodies stay within the segment limit: the title gives way, the link stays."""

from __future__ import annotations

import pytest

from playbooks import Playbook, render_template
from playbooks.context import sample_context
from playbooks.rendering import render_form
from playbooks.sms import CUT, SMS_MAX_CHARACTERS, cut_sms, fit_sms, fits_sms, measure_sms

LONG_TITLE = "Card payments failing at checkout " * 60


def _with_title(title: str) -> dict[str, object]:
    context = sample_context()
    context["incident"] = {**context["incident"], "title": title}
    return context


def _sms_templates(playbook: Playbook) -> list[str]:
    return sorted(t.id for t in playbook.templates.values() if t.sms is not None)


def test_every_sms_template_with_a_huge_title_renders_within_the_limit(acme: Playbook) -> None:
    limit = acme.sms.segment_limit
    for template_id in _sms_templates(acme):
        message = render_template(acme, template_id, "sms", _with_title(LONG_TITLE))
        assert message.segments is not None and message.segments <= limit, template_id
        assert message.segments == measure_sms(message.body).segments
        assert len(message.body) <= SMS_MAX_CHARACTERS


def test_the_link_after_a_cut_title_is_kept(acme: Playbook) -> None:
    short = render_template(acme, "page", "sms", _with_title("Card payments failing"))
    long = render_template(acme, "page", "sms", _with_title(LONG_TITLE))
    link = str(acme.company.bridge_url)
    assert link.rstrip("/") in short.body and link.rstrip("/") in long.body
    assert CUT in long.body and "Card payments failing at checkout" in long.body


def test_playbook_validation_still_sees_the_uncut_length(acme: Playbook) -> None:
    # Validation renders the form itself, so a template that is too long on its own is reported.
    template = acme.templates["page"]
    variables = {"company": acme.company.model_dump(mode="json"), **_with_title(LONG_TITLE)}
    assert (render_form(template, "sms", variables).segments or 0) > acme.sms.segment_limit


def test_fit_sms_cuts_only_the_given_part() -> None:
    body = fit_sms(lambda title: f"PAGE {title}. Reply ACK 42", "x" * 2_000, 2)
    assert body.startswith("PAGE xxx") and body.endswith(f"{CUT}. Reply ACK 42")
    assert measure_sms(body).segments == 2


@pytest.mark.parametrize("segments", [1, 3, 10])
def test_cut_sms_keeps_the_last_line_and_fits(segments: int) -> None:
    text = "é" * 3_000 + "\nhttps://status.acme.example/i/1"
    body = cut_sms(text, segments)
    assert fits_sms(body, segments) and body.endswith("\nhttps://status.acme.example/i/1")
    assert measure_sms(body).segments == segments


def test_no_body_ever_passes_twilios_1600_characters() -> None:
    assert not fits_sms("a" * 1_601, 11)
    assert len(cut_sms("a" * 5_000, 11)) <= SMS_MAX_CHARACTERS
