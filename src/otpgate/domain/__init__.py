"""The verification domain: pure rules, no framework, no I/O."""
