"""A real Flower deployment on localhost as the flower_app README documents it, with TLS and
SuperNode authentication: `garden federated certs`, `serve` (a SuperLink) and three `client`s
(SuperNodes) as processes, `flwr run` of garden's digits app for two rounds; one SuperNode is
killed while it trains in round 1, and both rounds complete with the others (slow, about 4
minutes on 2 cores: every process imports TensorFlow, and the server waits out the round
timeout). A SuperNode whose key is not registered, or that has no key, is refused."""

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("flwr")

from garden.federated import deploy  # noqa: E402

ROOT = pathlib.Path(__file__).parents[1]
APP = ROOT / "garden" / "federated" / "flower_app"
BIN = pathlib.Path(sys.executable).parent
BASE = 29100  # the SuperLink's HTTP port; SuperNodes' runtime APIs on BASE + 10 + index
ENV = dict(os.environ, PYTHONPATH=str(ROOT), KERAS_BACKEND="tensorflow",
           PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")


def start(command, log, env=ENV):
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)


def garden(*args):
    return [sys.executable, "-m", "garden.cli", "federated", *map(str, args)]


def wait_for(predicate, seconds, what, processes):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return
        dead = [p.args for p in processes if p.poll() not in (None, 0)]
        assert not dead, f"{dead} exited while waiting for {what}"
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def serve(tmp_path, port, nodes, processes):
    """Certificates for `nodes` nodes and a SuperLink that has registered their keys."""
    certs = tmp_path / "certs"
    assert subprocess.run(garden("certs", certs, "--nodes", nodes), env=ENV).returncode == 0
    log = open(tmp_path / "serve.log", "w")
    processes.append(start(garden("serve", certs, "--port", port), log))
    wait_for(lambda: "nodes registered" in (tmp_path / "serve.log").read_text(), 180,
             "the SuperLink to register the nodes", processes)
    return certs


def stop(processes):
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


@pytest.mark.slow
def test_localhost_deployment_survives_a_killed_client(tmp_path):
    started = tmp_path / "started"
    started.mkdir()
    processes = []
    try:
        certs = serve(tmp_path, BASE, 3, processes)
        nodes = []
        for index in range(3):
            log = open(tmp_path / f"supernode{index}.log", "w")
            delay = 30.0 if index == 2 else 0.0
            nodes.append(start(garden("client", certs, "--node", index, "--superlink",
                                      f"127.0.0.1:{BASE}", "--node-config",
                                      f'started-dir="{started}" delay={delay}'), log))
        processes += nodes
        weights = tmp_path / "weights.npz"
        with open(tmp_path / "run.log", "w") as log:
            run = start([str(BIN / "flwr"), "run", str(APP), deploy.CONNECTION, "--stream",
                         "--run-config", f'weights-out="{weights}" round-timeout=45.0'],
                        log, dict(ENV, FLWR_HOME=str(certs / "flwr")))
        processes.append(run)
        # Kill node 2 once it has started training in round 1 (it sleeps 30 s first).
        wait_for(lambda: any(p.name.startswith("started-2") for p in started.iterdir()), 300,
                 "client 2 to start training", processes)
        os.killpg(nodes[2].pid, signal.SIGKILL)
        wait_for(weights.exists, 400, "the server's final weights", processes[:3])
        result = np.load(weights)
        assert list(result["completed"]) == [2, 2]
        # Round 1 counts the killed node as failed; by round 2 it no longer answers the
        # population query (or is still listed and times out).
        assert result["failed"][0] == 1 and result["failed"][1] in (0, 1)
        assert all(np.all(np.isfinite(result[k])) for k in result.files if k.startswith("arr_"))
    finally:
        stop(processes)


@pytest.mark.slow
def test_a_supernode_without_a_registered_key_is_refused(tmp_path):
    port = BASE + 50
    processes = []
    try:
        certs = serve(tmp_path, port, 1, processes)
        other = deploy.make_certificates(tmp_path / "other", nodes=1)  # a key never registered
        shutil.copy(certs / "ca.crt", other / "ca.crt")  # ... for a node that trusts the CA
        logs = {name: open(tmp_path / f"{name}.log", "w") for name in ("good", "rogue", "keyless")}
        good = start(garden("client", certs, "--node", 0, "--superlink", f"127.0.0.1:{port}",
                            "--port", port + 10), logs["good"])
        rogue = start(garden("client", other, "--node", 0, "--superlink", f"127.0.0.1:{port}",
                             "--port", port + 11), logs["rogue"])
        keyless = start([str(BIN / "flower-supernode"), f"--root-certificates={certs / 'ca.crt'}",
                         f"--superlink=127.0.0.1:{port}", f"--port={port + 12}"], logs["keyless"])
        processes += [good, rogue, keyless]
        # Flower's refusals: an unknown key cannot activate; a node without one cannot register.
        for name, process, refusal in (
                ("rogue", rogue, "Failed to activate SuperNode"),
                ("keyless", keyless, "All SuperNodes must be registered via the CLI")):
            assert process.wait(timeout=180) != 0
            log = (tmp_path / f"{name}.log").read_text()
            assert refusal in log and "handshake" not in log, log
        assert good.poll() is None

        def statuses():
            listed = subprocess.run([str(BIN / "flwr"), "supernode", "list", deploy.CONNECTION,
                                     "--format", "json"], capture_output=True, text=True,
                                    env=dict(ENV, FLWR_HOME=str(certs / "flwr")))
            return [node["status"] for node in json.loads(listed.stdout)["nodes"]]

        # Only the registered key is known to the SuperLink, and its node is online.
        wait_for(lambda: statuses() == ["online"], 60, "the registered node online", [good])
    finally:
        stop(processes)
