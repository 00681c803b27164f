"""Fixtures for the delivery-layer tests: fake vendor servers and providers pointed at them."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from activities.providers import (
    OutboxProvider,
    PagerDutyEventsProvider,
    SendGridEmailProvider,
    TwilioProvider,
)
from tests.fakes import (
    TEST_ACCOUNT_SID,
    TEST_API_KEY,
    TEST_AUTH_TOKEN,
    FakePagerDuty,
    FakeSendGrid,
    FakeTwilio,
    WebhookReceiver,
)

ROUTING_KEY = "R" * 32
FROM_NUMBER = "+15005550006"


@pytest.fixture(autouse=True, scope="session")
def _local_network_only() -> Iterator[None]:
    """Keep SDK traffic to 127.0.0.1 off any proxy and off Twilio edge/region rewriting."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NO_PROXY", "127.0.0.1,localhost")
        patch.setenv("no_proxy", "127.0.0.1,localhost")
        for name in ("TWILIO_EDGE", "TWILIO_REGION"):
            if name in os.environ:
                patch.delenv(name)
        yield


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def fake_sendgrid() -> Iterator[FakeSendGrid]:
    with FakeSendGrid() as fake:
        yield fake


@pytest.fixture
def fake_pagerduty() -> Iterator[FakePagerDuty]:
    with FakePagerDuty() as fake:
        yield fake


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as hooks:
        yield hooks


@pytest.fixture
def twilio_provider(fake_twilio: FakeTwilio) -> TwilioProvider:
    return TwilioProvider(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, FROM_NUMBER, fake_twilio.url, 2)


@pytest.fixture
def sendgrid_provider(fake_sendgrid: FakeSendGrid) -> SendGridEmailProvider:
    return SendGridEmailProvider(
        TEST_API_KEY, "status@acme.example", "Acme Status", fake_sendgrid.url, 2
    )


@pytest.fixture
def pagerduty_provider(fake_pagerduty: FakePagerDuty) -> PagerDutyEventsProvider:
    return PagerDutyEventsProvider(ROUTING_KEY, fake_pagerduty.url, 2)


@pytest.fixture
def outbox_provider(tmp_path: Path) -> OutboxProvider:
    return OutboxProvider.in_data_dir(tmp_path / "data")


@pytest.fixture
def closed_port_url() -> str:
    """A local URL where nothing listens, so connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
