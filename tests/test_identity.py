"""National ID, phone and name rules, and how an ID is stored."""
from datetime import date

import pytest

from backend.registry import identity


@pytest.mark.parametrize("value", ["11010519491231002X", "330421194805120025"])
def test_valid_national_ids(value):
    assert identity.national_id_problem(value, today=date(2026, 11, 24)) is None


@pytest.mark.parametrize("value, reason", [
    ("11010519491231002", "must be 17 digits"),
    ("11010519491231002Y", "must be 17 digits"),
    ("01010519491231002X", "must be 17 digits"),
    ("110105194912310021", "checksum character is wrong (expected X)"),
    ("110105194902300025", "not a real date"),
    ("110105203001010010", "out of range"),
])
def test_invalid_national_ids(value, reason):
    assert reason in identity.national_id_problem(value, today=date(2026, 11, 24))


def test_masking_hides_birth_date_and_keeps_region():
    assert identity.mask_national_id("11010519491231002X") == "110105********002X"


def test_the_hash_is_keyed():
    a = identity.hash_national_id("key-a", "11010519491231002X")
    assert a != identity.hash_national_id("key-b", "11010519491231002X")
    assert len(a) == 32


def test_holder_ids_are_random_pseudonyms():
    ids = {identity.new_holder_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(len(i) == 11 for i in ids)


@pytest.mark.parametrize("phone, ok", [("13905730112", True), ("12905730112", False),
                                       ("1390573011", False), ("139057301123", False)])
def test_phone_rule(phone, ok):
    assert (identity.phone_problem(phone) is None) is ok
