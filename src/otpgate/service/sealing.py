"""Secrets derived from the one secret key, and AES-GCM sealing of codes and message texts."""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12


def derive_key(secret_key: str, purpose: str) -> bytes:
    """One independent 32-byte key per purpose, so no key serves two jobs."""
    return hmac.new(secret_key.encode(), f"otpgate/{purpose}".encode(), hashlib.sha256).digest()


class Sealer:
    """Encrypts short texts bound to the record they belong to (the associated data)."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, bound_to: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext.encode(), bound_to.encode())

    def open(self, sealed: bytes, bound_to: str) -> str:
        try:
            plaintext = self._aead.decrypt(
                sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], bound_to.encode()
            )
        except InvalidTag:
            raise ValueError("sealed text does not open with this key") from None
        return plaintext.decode()
