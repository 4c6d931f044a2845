"""One-time codes: generation from an injected random source, keyed hashing, comparison."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from enum import StrEnum


class CodeAlphabet(StrEnum):
    DIGITS = "digits"
    ALPHANUMERIC = "alphanumeric"


# Lower case because people type it that way on phones (SessionM's sample code is 383ue73733eee);
# checks fold case, so the alphabet has 36 symbols and no ambiguity between cases.
_SYMBOLS = {
    CodeAlphabet.DIGITS: "0123456789",
    CodeAlphabet.ALPHANUMERIC: "abcdefghijklmnopqrstuvwxyz0123456789",
}

MIN_CODE_LENGTH = 4
MAX_CODE_LENGTH = 10


def generate_code(length: int, alphabet: CodeAlphabet, choice: Callable[[str], str]) -> str:
    """`choice` picks one symbol uniformly at random (production: `secrets.choice`)."""
    symbols = _SYMBOLS[alphabet]
    return "".join(choice(symbols) for _ in range(length))


def normalize_submitted_code(code: str) -> str:
    """What a person typed, in the form the code was hashed in."""
    return code.strip().lower()


class CodeHasher:
    """Keyed hash of a code, bound to its verification so equal codes never share a hash.
    New codes are hashed under the current key; a submitted code is hashed under every live
    key (current, then previous), so a code stored before a key rotation still matches."""

    def __init__(self, key: bytes, previous: Sequence[bytes] = ()) -> None:
        self._key = key
        self._keys = (key, *previous)

    def hash(self, verification_id: str, code: str) -> str:
        return self._hash_with(self._key, verification_id, code)

    def live_hashes(self, verification_id: str, code: str) -> list[str]:
        return [self._hash_with(key, verification_id, code) for key in self._keys]

    @staticmethod
    def _hash_with(key: bytes, verification_id: str, code: str) -> str:
        message = f"{verification_id}\x00{normalize_submitted_code(code)}".encode()
        return hmac.new(key, message, hashlib.sha256).hexdigest()

    def matches(self, verification_id: str, code: str, expected_hash: str) -> bool:
        return hmac.compare_digest(self.hash(verification_id, code), expected_hash)
