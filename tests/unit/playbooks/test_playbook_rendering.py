"""Rendering: sandboxed Jinja2, strict variables, escaped HTML, SMS segments, speech text."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from playbooks import (
    Playbook,
    TemplateFailed,
    TemplateRefused,
    UnknownReference,
    render_template,
)
from playbooks.context import minimal_context, sample_context
from playbooks.rendering import render_form
from playbooks.schema import MessageTemplate
from playbooks.sms import measure_sms
from playbooks.speech import for_speech


def _template(**forms: Any) -> MessageTemplate:
    return MessageTemplate.model_validate({"id": "probe", "description": "probe", **forms})


def test_external_initial_email_is_a_complete_message(acme: Playbook) -> None:
    message = render_template(acme, "external_initial", "email", sample_context())
    assert message.subject == "Investigating issues with Checkout"
    assert "We are investigating reports of issues with Checkout at Acme Corp." in message.body
    assert "next update by 14:32 UTC" in message.body
    assert message.html is not None and "<h2>" in message.html
    assert "{{" not in message.body + message.html


def test_sms_states_encoding_and_segments(acme: Playbook) -> None:
    message = render_template(acme, "external_initial", "sms", sample_context())
    assert message.channel == "sms"
    assert (message.encoding, message.segments) == ("GSM-7", 1)


def test_voice_form_is_speakable(acme: Playbook) -> None:
    message = render_template(acme, "page", "voice", sample_context())
    assert "severity 1" in message.body
    assert "Press 1 to acknowledge." in message.body
    assert "\n" not in message.body


def test_every_template_renders_each_form_with_sample_and_minimal_context(
    acme: Playbook,
) -> None:
    for template in acme.templates.values():
        for channel in template.channels():
            for context in (sample_context(), minimal_context()):
                message = render_template(acme, template.id, channel, context)
                assert message.body.strip()


def test_python_internals_are_refused_not_rendered() -> None:
    probe = _template(sms="{{ ''.__class__ }}")
    with pytest.raises(TemplateRefused, match=r"reaches Python internals \(__class__\)"):
        render_form(probe, "sms", {})


@pytest.mark.parametrize(
    "source",
    [
        "{{ incident['__class__'] }}",
        "{{ incident | attr('__class__') }}",
        "{{ incident.title.__class__.__mro__ }}",
    ],
)
def test_other_routes_to_internals_are_refused(source: str) -> None:
    with pytest.raises(TemplateRefused):
        render_form(_template(sms=source), "sms", sample_context())


def test_attribute_named_at_render_time_is_refused_by_the_sandbox() -> None:
    # The name is data, so only the sandbox can stop it while rendering.
    probe = _template(sms="{{ incident | attr(name) }}")
    with pytest.raises(TemplateRefused, match=r"refused to render.*unsafe"):
        render_form(probe, "sms", {"incident": {}, "name": "__class__"})


def test_missing_variable_fails_with_a_hint() -> None:
    with pytest.raises(TemplateFailed, match=r"has no attribute 'nope'.*is defined"):
        render_form(_template(sms="{{ incident.nope }}"), "sms", sample_context())


def test_html_form_is_autoescaped_and_text_is_not() -> None:
    probe = _template(
        email={
            "subject": "{{ incident.title }}",
            "text": "{{ incident.title }}",
            "html": "<p>{{ incident.title }}</p>",
        }
    )
    message = render_form(probe, "email", {"incident": {"title": "<script>x</script> & co"}})
    assert message.html == "<p>&lt;script&gt;x&lt;/script&gt; &amp; co</p>"
    assert message.body == "<script>x</script> & co"


def test_missing_channel_form_is_an_unknown_reference(acme: Playbook) -> None:
    with pytest.raises(UnknownReference, match="has no voice form"):
        render_template(acme, "external_initial", "voice", sample_context())
    with pytest.raises(UnknownReference, match="not in playbook"):
        render_template(acme, "no_such_template", "sms", sample_context())


def test_filters_accept_iso_strings() -> None:
    probe = _template(sms="{{ at | clock }} / {{ at | day }} / {{ at | when }}")
    message = render_form(probe, "sms", {"at": "2026-03-10T14:02:00+00:00"})
    assert message.body == "14:02 UTC / 10 March 2026 / Tue 10 Mar 2026, 14:02 UTC"
    aware = render_form(probe, "sms", {"at": datetime(2026, 3, 10, 14, 2, tzinfo=UTC)})
    assert aware.body == message.body


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 0),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # extension characters cost two septets
        ("€" * 81, "GSM-7", 162, 2),
        ("a" * 158 + "{", "GSM-7", 160, 1),
        ("a" * 159 + "{", "GSM-7", 161, 2),
        ("a" * 152 + "{" + "a" * 152, "GSM-7", 306, 3),  # an escape pair never splits
        ("é" * 160, "GSM-7", 160, 1),
        ("ê" * 70, "UCS-2", 70, 1),
        ("ê" * 71, "UCS-2", 71, 2),
        ("ê" * 134, "UCS-2", 134, 2),
        ("😀" * 35, "UCS-2", 70, 1),  # astral characters are two UTF-16 units
        ("a" * 66 + "😀" + "a", "UCS-2", 69, 1),
        ("a" * 66 + "😀" + "a" * 5, "UCS-2", 73, 2),
    ],
)
def test_sms_segments(text: str, encoding: str, units: int, segments: int) -> None:
    length = measure_sms(text)
    assert (length.encoding, length.units, length.segments) == (encoding, units, segments)


def test_speech_expands_links_and_abbreviations() -> None:
    spoken = for_speech("SEV1 on Checkout.\nIC: see https://status.acme.example/x?y=1 & #war")
    assert spoken == (
        "severity 1 on Checkout. incident commander: see status dot acme dot example and "
        "number war."
    )
