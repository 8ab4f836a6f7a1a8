"""Keys derived from the click signing secret: member tokens, IP hashes, click ids."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ulid import ULID

from partnerpoints.signing import ClickKeys

KEYS = ClickKeys.from_secret("s" * 64)
member_ids = st.from_regex(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", fullmatch=True)


@given(member_id=member_ids)
def test_a_member_token_names_its_member_and_nobody_else(member_id: str) -> None:
    token = KEYS.member_token(member_id)
    assert KEYS.member_of(token) == member_id
    assert ClickKeys.from_secret("t" * 64).member_of(token) is None


@given(member_id=member_ids, position=st.integers(min_value=0), character=st.characters())
def test_any_changed_character_voids_a_member_token(member_id: str, position: int, character: str) -> None:
    token = KEYS.member_token(member_id)
    index = position % len(token)
    forged = token[:index] + character + token[index + 1 :]
    if forged != token:
        assert KEYS.member_of(forged) is None


def test_ip_hashes_are_keyed_and_never_the_ip() -> None:
    hashed = KEYS.ip_hash("198.51.100.7")
    assert len(hashed) == 64
    assert "198.51.100.7" not in hashed
    assert hashed == KEYS.ip_hash("198.51.100.7")
    assert hashed != ClickKeys.from_secret("t" * 64).ip_hash("198.51.100.7")


@given(
    fingerprint=st.lists(st.text(max_size=20), min_size=1, max_size=5),
    window_start_ms=st.integers(min_value=0, max_value=2**48 - 1),
)
def test_click_ids_are_ulids_of_their_window(fingerprint: list[str], window_start_ms: int) -> None:
    click_id = KEYS.click_id(fingerprint, window_start_ms)
    assert len(click_id) == 26
    assert ULID.from_str(click_id).milliseconds == window_start_ms
    assert click_id == KEYS.click_id(list(fingerprint), window_start_ms)
    assert click_id != KEYS.click_id([*fingerprint, "x"], window_start_ms)


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        ClickKeys.from_secret("short")
