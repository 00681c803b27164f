"""Message templates: one file per message kind, with a form for each channel it is sent on."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from playbooks.schema.types import STRICT, Slug


class EmailForm(BaseModel):
    """An email: subject line, plain text body and optional HTML body."""

    model_config = STRICT

    subject: str = Field(min_length=1)
    text: str = Field(min_length=1)
    html: str | None = None


class MessageTemplate(BaseModel):
    """The Jinja2 source of one message kind in each channel form it supports."""

    model_config = STRICT

    id: Slug
    description: str = Field(min_length=1)
    email: EmailForm | None = None
    sms: str | None = None
    voice: str | None = None

    @model_validator(mode="after")
    def _has_a_form(self) -> MessageTemplate:
        if self.email is None and self.sms is None and self.voice is None:
            raise ValueError("a template needs at least one of email, sms or voice")
        return self

    def channels(self) -> list[str]:
        """The channels this template can render for."""
        forms = (("email", self.email), ("sms", self.sms), ("voice", self.voice))
        return [name for name, form in forms if form is not None]
