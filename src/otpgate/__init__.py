"""otpgate: self-hostable phone verification by SMS one-time codes."""

__version__ = "0.1.0"
