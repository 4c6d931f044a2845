"""One `SmsSender` per provider."""
