"""The HTTP door: alert hooks, provider callbacks, status page, health and metrics."""
