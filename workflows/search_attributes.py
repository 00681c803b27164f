"""Custom search attributes: the PII-free columns operators filter incidents by in the UI."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

INCIDENT_SEVERITY = SearchAttributeKey.for_keyword("IncidentSeverity")
INCIDENT_PHASE = SearchAttributeKey.for_keyword("IncidentPhase")
BUSINESS_SERVICE = SearchAttributeKey.for_keyword("BusinessService")
EMERGENCY_MODE = SearchAttributeKey.for_keyword("EmergencyMode")
INCIDENT_COMMANDER = SearchAttributeKey.for_keyword("IncidentCommander")

ALL: tuple[SearchAttributeKey[str], ...] = (
    INCIDENT_SEVERITY,
    INCIDENT_PHASE,
    BUSINESS_SERVICE,
    EMERGENCY_MODE,
    INCIDENT_COMMANDER,
)
"""Every custom search attribute mayday sets; `mayday dev` and the compose stack register these."""
