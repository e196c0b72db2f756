"""A secure Flower deployment on garden's defaults: TLS certificates for the SuperLink, EC key
pairs for SuperNode authentication, and `flower-superlink` / `flower-supernode` started with them.

A certificates directory (`make_certificates`) holds:

    ca.crt, ca.key          a certificate authority, self-signed
    server.pem, server.key  the SuperLink's TLS certificate (for localhost, 127.0.0.1 and any
                            other host names given), signed by the CA
    nodes/node-K, .pub      SuperNode K's key pair (OpenSSH format, EC P-384)
    flwr/config.toml        the `flwr` CLI's connection "garden" to the SuperLink over TLS
                            (`FLWR_HOME=DIR/flwr flwr run ...`), written by `serve`

Private keys are written with mode 0600; every file atomically. `serve` starts the SuperLink with
TLS and `--enable-supernode-auth`, then registers the public key of every node in `nodes/`
(Flower >= 1.2x registers authorised SuperNodes through its Control API, `flwr supernode
register`, rather than a key list given at start-up). A SuperNode whose key is not registered,
or that has none, is refused by the SuperLink.

Reference:
    Flower, "Enable TLS connections" and "Authenticate SuperNodes".
    https://flower.ai/docs/framework/how-to-authenticate-supernodes.html
"""

import datetime
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from garden.utils import check_int
from garden.utils.files import atomic_path, write_text

PORT = 29100  # the SuperLink's one HTTP port (Fleet, Control and ServerAppIo APIs)
NODE_PORT = 29110  # SuperNode K's local Runtime API on NODE_PORT + K
HOSTS = ("localhost", "127.0.0.1")
CONNECTION = "garden"  # the `flwr` CLI's name for the SuperLink connection `serve` writes


def _write(path, data, private=False):
    """Writes bytes atomically; a private file is created with mode 0600 (never wider)."""
    with atomic_path(path) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)


def _name(common_name):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "garden"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem_key(key):
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def _certificate(subject, issuer, public_key, signing_key, days, extensions):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
               .public_key(public_key).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=days)))
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signing_key, hashes.SHA256())


def _san(host):
    from cryptography import x509

    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def make_certificates(directory, nodes=3, hosts=()):
    """Writes a CA, the SuperLink's certificate and `nodes` SuperNode key pairs.

    Args:
        directory: where to write them; must not hold certificates yet (new keys would lock
            out the nodes holding the old ones).
        nodes: int. SuperNode key pairs `nodes/node-0` ... Defaults to 3.
        hosts: extra host names or IP addresses the SuperLink is reached at (another machine
            connects to one of them); localhost and 127.0.0.1 are always included.

    Returns:
        The directory, as a `Path`.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    check_int("nodes", nodes, minimum=1)
    directory = Path(directory)
    if (directory / "ca.crt").exists():
        raise ValueError(f"{directory} already holds certificates (ca.crt); give an empty or "
                         "new directory")
    hosts = list(dict.fromkeys([*HOSTS, *hosts]))
    ca_key = ec.generate_private_key(ec.SECP384R1())
    ca_name = _name("garden federated CA")
    ca = _certificate(ca_name, ca_name, ca_key.public_key(), ca_key, 3650, [
        (x509.BasicConstraints(ca=True, path_length=0), True),
        (x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                       content_commitment=False, key_encipherment=False,
                       data_encipherment=False, key_agreement=False, encipher_only=False,
                       decipher_only=False), True),
        (x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)])
    server_key = ec.generate_private_key(ec.SECP384R1())
    server = _certificate(_name(hosts[0]), ca_name, server_key.public_key(), ca_key, 825, [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (x509.SubjectAlternativeName([_san(h) for h in hosts]), False),
        (x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), False),
        (x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False)])
    for index in range(nodes):
        key = ec.generate_private_key(ec.SECP384R1())
        _write(directory / "nodes" / f"node-{index}", key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption()), private=True)
        _write(directory / "nodes" / f"node-{index}.pub", key.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
            + f" garden-node-{index}\n".encode())
    _write(directory / "server.key", _pem_key(server_key), private=True)
    _write(directory / "server.pem", server.public_bytes(serialization.Encoding.PEM))
    _write(directory / "ca.key", _pem_key(ca_key), private=True)
    # ca.crt last: its presence marks a complete directory (see the check above).
    _write(directory / "ca.crt", ca.public_bytes(serialization.Encoding.PEM))
    return directory


def _require(directory, names, what):
    directory = Path(directory)
    missing = [name for name in names if not (directory / name).is_file()]
    if missing:
        raise ValueError(f"{what} needs {', '.join(missing)} in {directory}, which lacks "
                         f"{'it' if len(missing) == 1 else 'them'}; `garden federated certs "
                         "DIR` writes them")
    return [directory / name for name in names]


def node_key(directory, node):
    """The private key file of SuperNode `node` in a certificates directory.

    Raises:
        ValueError: no key pair for that node (naming the nodes there are).
    """
    check_int("node", node, minimum=0)
    path = Path(directory) / "nodes" / f"node-{node}"
    if not path.is_file():
        known = sorted(int(p.name.split("-")[1]) for p in Path(directory).glob("nodes/node-*")
                       if p.suffix != ".pub")
        raise ValueError(f"no key for node {node} in {path.parent}; the nodes there are "
                         f"{', '.join(map(str, known)) or 'none'} (garden federated certs DIR "
                         "--nodes N writes N)")
    return path


def public_keys(directory):
    """The SuperNode public key files of a certificates directory, by node index."""
    keys = sorted(Path(directory).glob("nodes/node-*.pub"),
                  key=lambda p: int(p.name[len("node-"):-len(".pub")]))
    if not keys:
        raise ValueError(f"no node public keys (nodes/node-K.pub) in {directory}; write them "
                         "with `garden federated certs DIR`")
    return keys


def _binary(name):
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if found is None:
        raise ValueError(f"{name} is not installed; install the extra: "
                         "pip install 'garden[federated]'")
    return found


def _env(**extra):
    """The environment for Flower's processes: its other executables (flower-superexec, started
    by the SuperLink and SuperNodes) on PATH."""
    bin_dir = os.path.dirname(_binary("flower-superlink"))
    return dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", **extra)


def superlink_command(directory, port=PORT, host="127.0.0.1"):
    """The `flower-superlink` command with TLS and SuperNode authentication on."""
    ca, cert, key = _require(directory, ("ca.crt", "server.pem", "server.key"), "the SuperLink")
    return [_binary("flower-superlink"), f"--ssl-ca-certfile={ca}", f"--ssl-certfile={cert}",
            f"--ssl-keyfile={key}", "--enable-supernode-auth",
            "--disable-runtime-dependency-installation", f"--host={host}", f"--port={port}"]


def supernode_command(directory, node, superlink=f"127.0.0.1:{PORT}", port=None,
                      node_config=""):
    """The `flower-supernode` command of node `node`: TLS verified against the CA, its key for
    authentication, its Runtime API on `port` (default NODE_PORT + node)."""
    key = node_key(directory, node)
    (ca,) = _require(directory, ("ca.crt",), f"node {node}")
    port = NODE_PORT + node if port is None else port
    command = [_binary("flower-supernode"), f"--root-certificates={ca}",
               f"--superlink={superlink}", f"--auth-supernode-private-key={key}",
               f"--port={port}"]
    return command + ([f"--node-config={node_config}"] if node_config else [])


def connection_config(directory, address):
    """The `flwr` CLI's config.toml naming the SuperLink at `address` over TLS."""
    (ca,) = _require(directory, ("ca.crt",), "the flwr connection")
    return (f'[superlink]\ndefault = "{CONNECTION}"\n\n[superlink.{CONNECTION}]\n'
            f'address = "{address}"\nroot-certificates = "{ca.resolve()}"\n')


def listening(address):
    """Whether something accepts TCP connections at "host:port"."""
    host, port = address.rsplit(":", 1)
    with socket.socket() as sock:
        return sock.connect_ex((host, int(port))) == 0


def _foreground(command, env, ready=None):
    """Runs `command` until it exits and returns its exit status; `ready(process)` is called
    once it runs. SIGTERM, Ctrl-C or an error in `ready` stop the process too."""
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    process = subprocess.Popen(command, env=env)
    try:
        if ready is not None:
            ready(process)
        return process.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
        if process.poll() is None:
            process.terminate()
            process.wait()


def serve(directory, port=PORT, host="127.0.0.1", timeout=120.0):
    """Starts the SuperLink with TLS and SuperNode authentication, registers every node public
    key in `directory/nodes`, and waits for the SuperLink to exit (its exit status).

    Writes `directory/flwr/config.toml`, so `FLWR_HOME=directory/flwr flwr run APP garden`
    reaches it.
    """
    command = superlink_command(directory, port, host)
    keys = public_keys(directory)
    address = f"{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    home = Path(directory) / "flwr"
    write_text(home / "config.toml", connection_config(directory, address))
    env = _env(FLWR_HOME=str(home.resolve()))

    def register(superlink):
        end = time.monotonic() + timeout
        while not listening(address):
            if superlink.poll() is not None:
                return
            if time.monotonic() > end:
                raise ValueError(f"the SuperLink did not listen on {address} within {timeout} s")
            time.sleep(0.5)
        for key in keys:
            done = subprocess.run([_binary("flwr"), "supernode", "register", str(key),
                                   CONNECTION], env=env, capture_output=True, text=True)
            if done.returncode:
                raise ValueError(f"registering {key} failed: {done.stdout} {done.stderr}")
        print(f"garden federated: SuperLink on {address} (TLS, SuperNode authentication), "
              f"{len(keys)} nodes registered; run an app with FLWR_HOME={home} flwr run APP "
              f"{CONNECTION}", flush=True)

    return _foreground(command, env, register)


def client(directory, node, superlink=f"127.0.0.1:{PORT}", port=None, node_config=""):
    """Runs SuperNode `node` (see `supernode_command`) until it exits; its exit status."""
    return _foreground(supernode_command(directory, node, superlink, port, node_config), _env())
