"""RUNNING it: the Temporal client, worker registration, metrics and graceful shutdown."""
