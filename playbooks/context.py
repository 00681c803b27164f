"""The variables templates may use, with a sample incident for previews and validation.

`render_template` adds `company` from the playbook. Callers pass `incident` (the keys in
REQUIRED_INCIDENT_KEYS always; the others when known) plus whatever the message kind needs:
`message` (next_update_at, audience), `recipient`, `signer`, `page`, `action`, `approval`.
Templates must test optional facts with `is defined`; validation renders every template with both
the full sample and the minimal one to prove it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

REQUIRED_INCIDENT_KEYS = (
    "id",
    "title",
    "severity",
    "severity_name",
    "phase",
    "service",
    "service_name",
    "started_at",
    "url",
)

_STARTED = datetime(2026, 3, 10, 14, 2, tzinfo=UTC)


def sample_context() -> dict[str, Any]:
    """A complete SEV1 checkout incident with every optional fact filled in."""
    return {
        "incident": {
            "id": "incident-checkout-card-errors",
            "title": "Card payments failing at checkout",
            "severity": "SEV1",
            "severity_name": "Critical",
            "phase": "identified",
            "service": "checkout",
            "service_name": "Checkout",
            "services": ["Checkout", "Payments"],
            "started_at": _STARTED,
            "url": "https://mayday.acme.example/status#incident-checkout-card-errors",
            "summary": "Most card payments at checkout fail with an error page.",
            "impact": "About 30% of checkout attempts fail; orders paid by wallet still succeed.",
            "customers_affected": "about 30% of customers checking out",
            "customer_experience": "An error page after pressing Pay; the card is not charged.",
            "regions": ["North America", "Europe"],
            "components": ["Web checkout", "Mobile checkout"],
            "cause": "A configuration change to the payment gateway connection pool.",
            "fix": "Roll back the gateway configuration change.",
            "fix_decided_at": _STARTED + timedelta(minutes=31),
            "fix_duration": "about 20 minutes",
            "fix_applied_at": _STARTED + timedelta(minutes=48),
            "expected_result": "Card payments succeed again within minutes of the rollback.",
            "workaround": "Customers can pay with a digital wallet.",
            "what_to_do": "Point customers to the status page; do not promise a fix time.",
            "what_to_tell_customers": "We are aware of card payment failures and working on it.",
            "recurrence_signs": "Error pages after Pay, or a rise in declined-payment tickets.",
            "further_reports": "Tag new tickets 'checkout-incident' and link them in the chat.",
            "data_loss": "No customer data was lost or corrupted, and no card was charged twice.",
            "resolved_at": _STARTED + timedelta(hours=1, minutes=12),
            "commander": "Dana Reyes",
            "codename": "BLUE HERON",
            "postmortem_url": "https://wiki.acme.example/postmortems/checkout-card-errors",
            "postmortem_due": _STARTED + timedelta(days=3),
            "detected_at": _STARTED - timedelta(minutes=3),
            "follow_up_url": "https://wiki.acme.example/incidents/checkout-card-errors",
            "monitoring": "Checkout error rate and payment success rate dashboards.",
            "actions": ["Add a canary for gateway configuration changes"],
        },
        "message": {
            "audience": "all-customers",
            "next_update_at": _STARTED + timedelta(minutes=30),
            "update_every": "30 minutes",
        },
        "recipient": {"id": "dana-reyes", "name": "Dana Reyes"},
        "signer": {"name": "Elena Petrova", "title": "VP Engineering"},
        "page": {
            "reason": "Checkout error rate above 25%",
            "role": "Incident Commander",
            "level": 1,
            "ack_code": "4721",
            "acked_by": "Dana Reyes",
        },
        "action": {
            "title": "Pause all scheduled email blasts",
            "function": "Marketing",
            "eta": "15 minutes",
            "due_at": _STARTED + timedelta(minutes=45),
            "kind": "halt",
        },
        "approval": {
            "step": "approve",
            "audience": "All customers",
            "purpose": "update",
            "due_at": _STARTED + timedelta(minutes=40),
            "draft_url": "https://mayday.acme.example/status#incident-checkout-card-errors",
        },
    }


def minimal_context() -> dict[str, Any]:
    """The sample reduced to what callers always provide: required incident keys only."""
    full = sample_context()
    incident: Mapping[str, Any] = full["incident"]
    full["incident"] = {key: incident[key] for key in REQUIRED_INCIDENT_KEYS}
    full["incident"]["phase"] = "investigating"
    full["message"] = {"audience": "all-customers", "next_update_at": incident["started_at"]}
    full["page"] = {
        "reason": "Checkout error rate above 25%",
        "role": "Incident Commander",
        "level": 1,
    }
    return full
