"""Interleaved timing, shared by every benchmark: ratios that hold on a noisy shared machine.

Each candidate runs `warmup` times (compilation, caches), then all candidates run in turn,
A B A B ..., `repeats` times. A ratio is taken within each repetition (the candidates ran
seconds apart, under the same load) and quoted as the median with the min and max over
repetitions, so a burst of load from another process moves the spread, not the median.
"""

import argparse
import statistics
import time


def interleave(functions, *, repeats, warmup=1):
    """Times each of `functions` (a dict name -> no-argument callable), interleaved.

    Returns:
        dict name -> list of `repeats` wall-clock seconds, in repetition order.
    """
    if repeats < 1 or warmup < 0:
        raise ValueError(f"repeats={repeats!r}, warmup={warmup!r}: use repeats >= 1, warmup >= 0")
    for _ in range(warmup):
        for function in functions.values():
            function()
    seconds = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            seconds[name].append(time.perf_counter() - start)
    return seconds


def ratios(seconds, numerator, denominator):
    """Per-repetition ratios `seconds[numerator] / seconds[denominator]` of `interleave`'s
    result: a time ratio (below 1: `numerator` is faster). Invert it for a throughput ratio."""
    return [a / b for a, b in zip(seconds[numerator], seconds[denominator], strict=True)]


def row(benchmark, name, values, unit, **detail):
    """One result row of the harness contract: the median, min and max of `values`."""
    return {"benchmark": benchmark, "row": name, "ratio": statistics.median(values),
            "min": min(values), "max": max(values), "unit": unit, "detail": detail}


def format_table(rows):
    """The rows as a Markdown table."""
    lines = ["| benchmark | row | median | min | max | unit |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['benchmark']} | {r['row']} | {r['ratio']:.3g} | {r['min']:.3g} "
                     f"| {r['max']:.3g} | {r['unit']} |")
    return "\n".join(lines)


def repeats_main(rows, doc, argv=None, repeats=5):
    """The `main` of a benchmark whose one option is `--repeats`: runs `rows(repeats=...)`,
    prints their table and returns them; `doc` is the module's docstring (the help text)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=repeats)
    result = rows(repeats=parser.parse_args(argv).repeats)
    print(format_table(result))
    return result
