"""dotdigital (Comapi) CPaaS Verify: send a code and validate it, over the verification service."""

from otpgate.compat.dotdigital.routes import API

__all__ = ["API"]
