"""Assertions shared by the delivery-layer tests."""

from __future__ import annotations

from activities.providers import DeliveryError, OutboundMessage


def assert_no_address(error: DeliveryError, *addresses: str) -> None:
    """The error, its Temporal form and its chain never mention a recipient's address."""
    texts = [str(error), repr(error), *map(str, error.args), error.to_application_error().message]
    for address in addresses:
        for text in texts:
            assert address not in text, f"address leaked into {text!r}"
    chained = error.__cause__ is not None or (
        error.__context__ is not None and not error.__suppress_context__
    )
    assert not chained, "the SDK's exception (which may quote the address) was chained"


def outbound(
    channel: str = "sms", address: str = "+15558675310", **fields: object
) -> OutboundMessage:
    """An outbound message with sensible defaults for tests."""
    values: dict[str, object] = {
        "id": "INC-42:page:1:dana",
        "incident_id": "INC-42",
        "purpose": "page",
        "channel": channel,
        "person": "dana",
        "address": address,
        "subject": "[SEV1] Checkout down",
        "body": "[SEV1] INC-42 checkout down. Reply 1 to ACK",
        "severity": "SEV1",
    }
    values.update(fields)
    return OutboundMessage.model_validate(values)
