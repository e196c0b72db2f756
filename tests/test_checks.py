"""garden.utils.checks: the argument checks every part of garden shares."""

import numpy as np
import pytest

from garden.utils import check_bool, check_choice, check_int, check_ints, check_number, check_rate


def test_accepted_values_come_back_normalised():
    assert check_int("depth", np.int64(3)) == 3 and type(check_int("depth", np.int64(3))) is int
    assert check_ints("rates", [6, 12]) == (6, 12) and check_ints("size", 4) == (4,)
    assert check_ints("padding", (0, 2), length=2, minimum=0) == (0, 2)
    assert check_number("gamma", 1) == 1.0 and type(check_number("gamma", 1)) is float
    assert check_number("gamma", 1.0, minimum=0, maximum=1, inclusive=(False, True)) == 1.0
    assert check_rate("dropout", 0.0) == 0.0
    assert check_bool("flag", False) is False
    assert check_choice("mode", "a", ("a", "b")) == "a"


@pytest.mark.parametrize(
    "call, message",
    [
        # A bool is not an integer here (`depth=True` must not mean 1).
        (lambda: check_int("depth", True), r"depth=True is not allowed: use an integer >= 1\."),
        (lambda: check_int("samples", 1, minimum=2), "samples=1 .* integer >= 2"),
        (lambda: check_ints("rates", [6, 0]), r"rates=\(6, 0\) .* one or more integers >= 1"),
        (lambda: check_ints("size", (4,), length=2), r"size=\(4,\) .* 2 integers"),
        (lambda: check_number("gamma", 0.0, minimum=0, maximum=1, inclusive=(False, True)),
         r"gamma=0.0 .* a number in \(0, 1\]"),
        (lambda: check_number("k", "2"), r"k='2' .* a number in \(-inf, inf\)"),
        (lambda: check_number("lr", -1, minimum=0), r"lr=-1 .* a number in \[0, inf\)"),
        (lambda: check_rate("dropout", 1.0), r"dropout=1.0 .* a rate in \[0, 1\)"),
        (lambda: check_bool("flag", 1), "flag=1 .* True or False"),
        (lambda: check_choice("mode", "c", ("a", "b")), "mode='c' .* one of 'a', 'b'"),
    ],
)
def test_rejected_values_name_argument_value_and_what_is_allowed(call, message):
    with pytest.raises(ValueError, match=message):
        call()
