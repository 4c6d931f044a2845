"""Real protocol peers the delivery tests talk to: local HTTP servers that behave like the
providers' APIs (and call back as they do), and an SMSC simulator process."""
