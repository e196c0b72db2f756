"""In-process FedAvg against the same rounds through Flower's simulation engine.

`python -m benchmarks.federated` runs garden's digits Flower app (`garden/federated/flower_app`:
a 64-32-10 MLP, three non-IID clients) for `--rounds` rounds twice in one process: with
`WeightedFedAvg.next` in process, and with `flwr.simulation.run_simulation` (Ray actors running
the `ClientApp`, the `ServerApp` aggregating with the same code, from the same initial
weights). Prints rounds per second of
each (the first round, which warms up graphs and actors, left out) and their ratio, checks that
both end at the same weights, and writes `results/federated.json`. Needs `garden[federated]`.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks import require
from benchmarks._timing import row
from garden.federated import flower
from garden.utils.files import write_text

sys.path.insert(0, str(Path(flower.__file__).parent / "flower_app"))
from garden_digits import apps  # noqa: E402


def rounds_per_second(stamps):
    """Rounds per second between the end of the first round and the end of the last."""
    return (len(stamps) - 1) / (stamps[-1] - stamps[0])


def in_process(rounds, clients):
    process = apps.process_fn()
    data = [apps.partition(i, clients) for i in range(clients)]
    state, stamps = process.initialize(), []
    initial = state
    for _ in range(rounds):
        state, _ = process.next(state, data)
        stamps.append(time.perf_counter())
    return initial, state, stamps


def simulated(rounds, clients, initial):
    from flwr.serverapp import ServerApp
    from flwr.simulation import run_simulation

    found = {}

    def on_round(state, metrics):
        found.setdefault("stamps", []).append(time.perf_counter())
        found["state"] = state

    server = ServerApp()

    @server.main()
    def main(grid, context):
        process = apps.process_fn()
        start = process.set_model_weights(process.initialize(), initial.model)
        flower.run_rounds(process, grid, rounds, state=start, on_round=on_round)

    client = flower.client_app(apps.process_fn, apps.load_data)
    run_simulation(server, client, num_supernodes=clients,
                   backend_config={"client_resources": {"num_cpus": 1}})
    return found["state"], found["stamps"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--clients", type=int, default=3)
    parser.add_argument("--out", default="results", help="output directory")
    args = parser.parse_args(argv)
    initial, local_state, local = in_process(args.rounds, args.clients)
    sim_state, sim = simulated(args.rounds, args.clients, initial)
    same = all(np.allclose(a, b, rtol=1e-4, atol=1e-5)
               for a, b in zip(local_state.model.trainable, sim_state.model.trainable))
    result = {"rounds": args.rounds, "clients": args.clients,
              "in_process_rounds_per_second": rounds_per_second(local),
              "flower_simulation_rounds_per_second": rounds_per_second(sim),
              "same_weights": same}
    result["ratio"] = (result["in_process_rounds_per_second"]
                       / result["flower_simulation_rounds_per_second"])
    print("| runner | rounds/s |\n|---|---|")
    print(f"| in process | {result['in_process_rounds_per_second']:.2f} |")
    print(f"| Flower simulation | {result['flower_simulation_rounds_per_second']:.2f} |")
    print(f"in process / Flower simulation: {result['ratio']:.2f}x; same weights: {same}")
    write_text(Path(args.out) / "federated.json", json.dumps(result, indent=2))
    return result


def rows(tiny=False):
    """In-process rounds/s over Flower simulation's (one measurement: min = max)."""
    require("ray", "'garden[federated]'")  # flwr's simulation engine
    with tempfile.TemporaryDirectory() as tmp:  # the tiny run's file is not kept
        result = main(["--rounds", "2", "--out", tmp] if tiny else [])
    return [row("federated", "FedAvg rounds/s: in process / Flower simulation", [result["ratio"]],
                "throughput ratio", rounds=result["rounds"], clients=result["clients"],
                same_weights=result["same_weights"])]


if __name__ == "__main__":
    main()
