"""mayday: business incident response and stakeholder communications on Temporal."""

__version__ = "0.1.0"
