"""Codes: generated from the injected random source, stored as a keyed hash, compared whole."""

from __future__ import annotations

import secrets

import pytest

from otpgate.domain.codes import (
    MAX_CODE_LENGTH,
    MIN_CODE_LENGTH,
    CodeAlphabet,
    CodeHasher,
    generate_code,
    normalize_submitted_code,
)

KEY = b"k" * 32


@pytest.mark.parametrize("length", range(MIN_CODE_LENGTH, MAX_CODE_LENGTH + 1))
@pytest.mark.parametrize(
    ("alphabet", "symbols"),
    [
        (CodeAlphabet.DIGITS, "0123456789"),
        (CodeAlphabet.ALPHANUMERIC, "abcdefghijklmnopqrstuvwxyz0123456789"),
    ],
)
def test_a_code_has_the_asked_length_and_only_symbols_of_its_alphabet(
    length: int, alphabet: CodeAlphabet, symbols: str
) -> None:
    code = generate_code(length, alphabet, secrets.choice)
    assert len(code) == length
    assert set(code) <= set(symbols)


def test_every_symbol_comes_from_the_injected_random_source() -> None:
    offered: list[str] = []

    def choose_last(symbols: str) -> str:
        offered.append(symbols)
        return symbols[-1]

    assert generate_code(6, CodeAlphabet.DIGITS, choose_last) == "999999"
    assert offered == ["0123456789"] * 6


def test_digit_codes_use_all_ten_digits_over_many_draws() -> None:
    seen = set("".join(generate_code(10, CodeAlphabet.DIGITS, secrets.choice) for _ in range(50)))
    assert seen == set("0123456789")


def test_the_hash_is_keyed_so_another_key_gives_another_hash() -> None:
    assert CodeHasher(KEY).hash("ver_1", "123456") != CodeHasher(b"x" * 32).hash("ver_1", "123456")


def test_the_same_code_of_two_verifications_has_two_hashes() -> None:
    hasher = CodeHasher(KEY)
    assert hasher.hash("ver_1", "123456") != hasher.hash("ver_2", "123456")


def test_the_hash_never_contains_the_code() -> None:
    hasher = CodeHasher(KEY)
    digest = hasher.hash("ver_1", "424242")
    assert "424242" not in digest
    assert len(digest) == 64  # hex of HMAC-SHA256


def test_the_right_code_matches_and_a_near_miss_does_not() -> None:
    hasher = CodeHasher(KEY)
    stored = hasher.hash("ver_1", "123456")
    assert hasher.matches("ver_1", "123456", stored)
    for near in ("123457", "12345", "1234567", "023456", ""):
        assert not hasher.matches("ver_1", near, stored), near
    assert not hasher.matches("ver_2", "123456", stored)


@pytest.mark.parametrize("typed", [" abc123 ", "ABC123", "AbC123\t", "\nabc123"])
def test_surrounding_space_and_case_are_folded_before_comparing(typed: str) -> None:
    hasher = CodeHasher(KEY)
    assert normalize_submitted_code(typed) == "abc123"
    assert hasher.matches("ver_1", typed, hasher.hash("ver_1", "abc123"))


def test_inner_space_is_not_folded() -> None:
    hasher = CodeHasher(KEY)
    assert not hasher.matches("ver_1", "123 456", hasher.hash("ver_1", "123456"))
