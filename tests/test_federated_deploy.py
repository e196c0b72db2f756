"""A real Flower deployment on localhost: a SuperLink and three SuperNodes as processes,
`flwr run` of garden's digits app for two rounds; one SuperNode is killed while it trains in
round 1, and both rounds complete with the others (slow, about 3.5 minutes on 2 cores: every
process imports TensorFlow, and the server waits out the round timeout)."""

import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("flwr")

APP = pathlib.Path(__file__).parents[1] / "garden" / "federated" / "flower_app"
BIN = pathlib.Path(sys.executable).parent
BASE = 29100  # the SuperLink's HTTP port; SuperNodes' runtime APIs on BASE + 10 + index


def start(command, log, env):
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)


def listening(port):
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for(predicate, seconds, what, processes):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return
        dead = [p.args[0] for p in processes if p.poll() not in (None, 0)]
        assert not dead, f"{dead} exited while waiting for {what}"
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_localhost_deployment_survives_a_killed_client(tmp_path):
    home = tmp_path / "flwr"
    home.mkdir()
    (home / "config.toml").write_text(
        '[superlink]\ndefault = "garden"\n\n[superlink.garden]\n'
        f'address = "127.0.0.1:{BASE}"\ninsecure = true\n')
    root = str(pathlib.Path(__file__).parents[1])
    env = dict(os.environ, FLWR_HOME=str(home), PYTHONPATH=root, KERAS_BACKEND="tensorflow",
               PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    started = tmp_path / "started"
    started.mkdir()
    processes = []
    try:
        with open(tmp_path / "superlink.log", "w") as log:
            processes.append(start([
                str(BIN / "flower-superlink"), "--insecure",
                "--disable-runtime-dependency-installation",
                f"--port={BASE}", f"--database={tmp_path / 'state.db'}"], log, env))
        wait_for(lambda: listening(BASE), 120, "the SuperLink", processes)
        nodes = []
        for index in range(3):
            log = open(tmp_path / f"supernode{index}.log", "w")
            delay = 30.0 if index == 2 else 0.0
            nodes.append(start([
                str(BIN / "flower-supernode"), "--insecure", f"--superlink=127.0.0.1:{BASE}",
                f"--port={BASE + 10 + index}",
                f"--node-config=partition-id={index} num-partitions=3 "
                f'started-dir="{started}" delay={delay}'], log, env))
        processes += nodes
        weights = tmp_path / "weights.npz"
        with open(tmp_path / "run.log", "w") as log:
            run = start([str(BIN / "flwr"), "run", str(APP), "garden", "--stream",
                         "--run-config", f'weights-out="{weights}" round-timeout=45.0'],
                        log, env)
        processes.append(run)
        # Kill node 2 once it has started training in round 1 (it sleeps 30 s first).
        wait_for(lambda: any(p.name.startswith("started-2") for p in started.iterdir()), 240,
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
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
