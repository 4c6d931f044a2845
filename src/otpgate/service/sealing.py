"""Secrets derived from the one secret key, and AES-GCM sealing of codes and message texts."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12


def derive_key(secret_key: str, purpose: str) -> bytes:
    """One independent 32-byte key per purpose, so no key serves two jobs."""
    return hmac.new(secret_key.encode(), f"otpgate/{purpose}".encode(), hashlib.sha256).digest()


class Sealer:
    """Encrypts short texts bound to the record they belong to (the associated data), under
    the current key; opens what any of the live keys (current, then previous) sealed."""

    def __init__(self, key: bytes, previous: Sequence[bytes] = ()) -> None:
        self._aead = AESGCM(key)
        self._opening = [self._aead, *(AESGCM(earlier) for earlier in previous)]

    def seal(self, plaintext: str, bound_to: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext.encode(), bound_to.encode())

    def open(self, sealed: bytes, bound_to: str) -> str:
        for aead in self._opening:
            try:
                plaintext = aead.decrypt(
                    sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], bound_to.encode()
                )
            except InvalidTag:
                continue
            return plaintext.decode()
        raise ValueError("sealed text does not open with any live key")
