"""WHEN to do it: deterministic workflows and the contracts they exchange."""
