"""Use cases: what otpgate does, over ports that the adapters implement."""
