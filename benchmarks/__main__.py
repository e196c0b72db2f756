"""`python -m benchmarks [--tiny] [--only NAME ...]`: every benchmark, one table, one JSON file.

Imports every module of `benchmarks/` (those not starting with "_"), collects their rows, prints
them as one Markdown table and writes `results/bench.json` atomically: the machine (CPU model,
cores), the versions of Python and the frameworks, the date, every row and the modules skipped
for a missing optional dependency, with the reason. `--tiny` runs each module's tiny
configuration (seconds; what the test tier runs), not a measurement.
"""

import argparse
import datetime
import importlib
import importlib.metadata
import json
import os
import pkgutil
import platform
import time

import benchmarks
from benchmarks._timing import format_table
from garden.utils.files import write_text

DISTRIBUTIONS = ("tensorflow", "keras", "jax", "jaxlib", "torch", "torchvision", "ai-edge-litert",
                 "flwr", "pydensecrf2")


def module_names():
    """The benchmark modules, sorted."""
    return sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__)
                  if not m.name.startswith("_"))


def machine():
    """CPU model and core count of this machine."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(line.split(":", 1)[1].strip() for line in cpuinfo
                         if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": model, "cores": os.cpu_count(), "platform": platform.platform()}


def versions():
    """Python's version and each installed framework's (absent ones left out)."""
    found = {"python": platform.python_version()}
    for name in DISTRIBUTIONS:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return found


def run(names, tiny=False):
    """Rows, skipped modules and seconds per module of the benchmark modules `names`."""
    rows, skipped, seconds = [], [], {}
    for name in names:
        start = time.perf_counter()
        try:
            module = importlib.import_module(f"benchmarks.{name}")
            found = module.rows(tiny=tiny)
            print(format_table(found), flush=True)
            rows.extend(found)
        except benchmarks.MissingOptional as error:
            skipped.append({"benchmark": name, "reason": str(error)})
            print(f"skipped {name}: {error}")
        seconds[name] = time.perf_counter() - start
        print(f"{name}: {seconds[name]:.0f} s", flush=True)
    return rows, skipped, seconds


def main(argv=None):
    names = module_names()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true",
                        help="tiny configurations: checks every module runs; measures nothing")
    parser.add_argument("--only", nargs="+", choices=names, metavar="NAME",
                        help=f"run only these modules, of: {', '.join(names)}")
    parser.add_argument("--out", default="results/bench.json", help="the JSON file to write")
    args = parser.parse_args(argv)
    rows, skipped, seconds = run(args.only or names, tiny=args.tiny)
    result = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "tiny": args.tiny, "machine": machine(), "versions": versions(), "rows": rows,
              "skipped": skipped, "seconds": seconds}
    print("\n" + format_table(rows))
    for skip in skipped:
        print(f"skipped {skip['benchmark']}: {skip['reason']}")
    write_text(args.out, json.dumps(result, indent=2, default=float))
    print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
