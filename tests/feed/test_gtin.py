"""GS1 table tests: which barcodes may be sent to Google as a gtin."""

from __future__ import annotations

import pytest

from feedapp.feed.gtin import check_digit, gtin_problem, normalize_gtin


def with_check(body: str) -> str:
    """Append the GS1 check digit, computed the long way round on the 14-digit form."""
    padded = body.zfill(13)
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(padded))
    return body + str(-total % 10)


def wrong_check(code: str) -> str:
    return code[:-1] + str((int(code[-1]) + 1) % 10)


VALID = [
    ("96385074", "GTIN-8 (EAN-8)"),
    ("036000291452", "GTIN-12 (UPC-A)"),
    ("4006381333931", "GTIN-13 (EAN-13)"),
    ("10012345678902", "GTIN-14, indicator 1"),
    ("00012345678905", "GTIN-14 holding a UPC-A"),
    ("9780306406157", "ISBN-13, 978"),
    (with_check("979103230082"), "ISBN-13, 979"),
    (with_check("7801234"), "GTIN-8 built"),
    (with_check("78012345678"), "GTIN-12 starting with 7"),
    (with_check("780123456789"), "GTIN-13 from Chile (780)"),
    (with_check("980123456789"), "GTIN-13 refund receipt range 980 is not in Google's list"),
    (with_check("0123456"), "GTIN-8 starting with 0 (also UPC-E shape)"),
]


@pytest.mark.parametrize(("code", "what"), VALID)
def test_valid_codes_pass(code: str, what: str) -> None:
    assert gtin_problem(code) is None, what
    assert normalize_gtin(code) == code


def test_reference_check_digits_match_the_module() -> None:
    for code, _ in VALID:
        assert check_digit(code[:-1]) == int(code[-1])
        assert with_check(code[:-1]) == code


@pytest.mark.parametrize("raw", ["4006-3813-33931", " 4006381333931 ", "400 638 133 393 1"])
def test_spaces_and_dashes_are_dropped(raw: str) -> None:
    assert normalize_gtin(raw) == "4006381333931"


def test_integers_are_read_as_digits() -> None:
    assert normalize_gtin(4006381333931) == "4006381333931"


@pytest.mark.parametrize("code", [code for code, _ in VALID])
def test_wrong_check_digit(code: str) -> None:
    assert gtin_problem(wrong_check(code)) == "gtin_invalid_check_digit"
    assert normalize_gtin(wrong_check(code)) is None


RESTRICTED = [
    (with_check("200123456789"), "EAN-13 prefix 2 (in-store, variable measure)"),
    (with_check("290000000001"), "EAN-13 prefix 29"),
    (with_check("20123456789"), "UPC-A starting with 2 -> 02"),
    (with_check("40123456789"), "UPC-A starting with 4 -> 04"),
    (with_check("020123456789"), "GTIN-13 with 02"),
    (with_check("040000000001"), "GTIN-13 with 04"),
    (with_check("0200123456789"), "GTIN-14 holding an EAN-13 with prefix 2"),
    (with_check("1200123456789"), "GTIN-14 case of a prefix-2 number"),
]


@pytest.mark.parametrize(("code", "what"), RESTRICTED)
def test_restricted_prefixes(code: str, what: str) -> None:
    assert gtin_problem(code) == "gtin_restricted_prefix", what
    assert normalize_gtin(code) is None


COUPONS = [
    (with_check("50123456789"), "UPC-A coupon, number system 5 -> 05"),
    (with_check("050123456789"), "GTIN-13 with 05"),
    (with_check("990123456789"), "EAN-13 coupon 99"),
    (with_check("981123456789"), "coupon 981"),
    (with_check("982123456789"), "coupon 982"),
    (with_check("983123456789"), "coupon 983"),
    (with_check("984123456789"), "coupon 984"),
    (with_check("1990123456789"), "GTIN-14 case of a coupon"),
]


@pytest.mark.parametrize(("code", "what"), COUPONS)
def test_coupon_prefixes(code: str, what: str) -> None:
    assert gtin_problem(code) == "gtin_coupon_prefix", what


@pytest.mark.parametrize("code", [with_check("9012345678901"), with_check("9780306406150")])
def test_gtin14_with_indicator_9(code: str) -> None:
    assert len(code) == 14
    assert gtin_problem(code) == "gtin_indicator_9"


@pytest.mark.parametrize(
    "raw",
    [
        "ABC1234567890",
        "4006381333931X",
        "4006381333931.0",
        "４００６３８１３３３９３１",
        "",
        "+4006381",
    ],
)
def test_non_digits(raw: str) -> None:
    assert gtin_problem(raw) == "gtin_not_digits"


@pytest.mark.parametrize("raw", [None, True, 12.5, ["4006381333931"]])
def test_non_text_values(raw: object) -> None:
    assert normalize_gtin(raw) is None
    assert gtin_problem(raw) is not None


@pytest.mark.parametrize("length", [1, 7, 9, 10, 11, 15, 18])
def test_wrong_lengths(length: int) -> None:
    code = with_check("7" * (length - 1)) if length > 1 else "7"
    assert gtin_problem(code) == "gtin_wrong_length"


@pytest.mark.parametrize("code", ["00000000", "000000000000", "0000000000000", "00000000000000"])
def test_all_zeros(code: str) -> None:
    assert gtin_problem(code) == "gtin_zero"
