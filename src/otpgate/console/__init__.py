"""The operator console: server-drawn pages over the same services as the API (docs/console.md)."""
