"""The native v1 HTTP API: translates HTTP to service calls and outcomes to JSON."""
