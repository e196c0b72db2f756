"""Argument checks shared by the layers and builders: a bad value raises `ValueError` naming the
argument, the value received and what is allowed."""

import numbers



def check_int(name, value, minimum=1):
    """Returns `value` as an int if it is an integer (not a bool; numpy integers count) >=
    `minimum`, else raises `ValueError`."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name}={value!r} is not allowed: use an integer >= {minimum}.")
    return int(value)


def check_rate(name, value):
    """Returns `value` if it is a rate in [0, 1), else raises `ValueError`."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1:
        raise ValueError(f"{name}={value!r} is not allowed: use a rate in [0, 1).")
    return value


def check_ints(name, values, length=None, minimum=1):
    """Returns `values` as a tuple of ints if it holds integers >= `minimum` (exactly `length`
    of them when given, at least one otherwise), else raises `ValueError`."""
    values = tuple(values) if isinstance(values, (list, tuple)) else (values,)
    count_ok = len(values) == length if length is not None else len(values) >= 1
    if not count_ok or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                               and v >= minimum for v in values):
        allowed = f"{length}" if length is not None else "one or more"
        raise ValueError(f"{name}={values!r} is not allowed: use {allowed} integers >= {minimum}.")
    return tuple(int(v) for v in values)


def check_number(name, value, *, minimum=None, maximum=None, inclusive=True):
    """Returns `value` as a float if it is a real number (not a bool, not a string) within
    `[minimum, maximum]`, else raises `ValueError`. `inclusive` is a bool for both bounds or a
    pair `(lower, upper)`; `False` makes a bound open."""
    low_closed, high_closed = inclusive if isinstance(inclusive, tuple) else (inclusive,) * 2
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok and minimum is not None:
        ok = value >= minimum if low_closed else value > minimum
    if ok and maximum is not None:
        ok = value <= maximum if high_closed else value < maximum
    if not ok:
        low = "(-inf" if minimum is None else ("[" if low_closed else "(") + f"{minimum}"
        high = "inf)" if maximum is None else f"{maximum}" + ("]" if high_closed else ")")
        raise ValueError(f"{name}={value!r} is not allowed: use a number in {low}, {high}.")
    return float(value)


def check_bool(name, value):
    """Returns `value` if it is a bool, else raises `ValueError`."""
    if not isinstance(value, bool):
        raise ValueError(f"{name}={value!r} is not allowed: use True or False.")
    return value


def check_choice(name, value, choices):
    """Returns `value` if it is one of `choices`, else raises `ValueError` listing them."""
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name}={value!r} is not allowed: use one of {allowed}.")
    return value
