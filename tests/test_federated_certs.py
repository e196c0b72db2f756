"""`garden federated certs`: the server certificate verifies against the CA for localhost and
127.0.0.1 (and the extra hosts), node keys load as the EC P-384 OpenSSH keys Flower accepts,
private keys have mode 0600; the Flower commands carry TLS and authentication; bad input is
one clear error."""

import ipaddress
import re
import shutil
import stat

import pytest

pytest.importorskip("cryptography")

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from garden import cli  # noqa: E402
from garden.federated import deploy  # noqa: E402


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return deploy.make_certificates(tmp_path_factory.mktemp("certs") / "certs", nodes=2,
                                    hosts=["10.1.2.3", "server.lan"])


def test_server_certificate_is_signed_by_the_ca_for_the_hosts(certs):
    ca = x509.load_pem_x509_certificate((certs / "ca.crt").read_bytes())
    server = x509.load_pem_x509_certificate((certs / "server.pem").read_bytes())
    server.verify_directly_issued_by(ca)  # raises if the signature or issuer is wrong
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost", "server.lan"]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1"),
                                                         ipaddress.ip_address("10.1.2.3")]
    key = serialization.load_pem_private_key((certs / "server.key").read_bytes(), None)
    assert key.public_key().public_numbers() == server.public_key().public_numbers()


def test_node_keys_are_p384_openssh_pairs_and_private_files_are_0600(certs):
    for index in range(2):
        private = serialization.load_ssh_private_key(
            (certs / "nodes" / f"node-{index}").read_bytes(), None)
        public = serialization.load_ssh_public_key(
            (certs / "nodes" / f"node-{index}.pub").read_bytes())
        assert isinstance(private.curve, ec.SECP384R1)
        assert private.public_key().public_numbers() == public.public_numbers()
    assert [p.name for p in deploy.public_keys(certs)] == ["node-0.pub", "node-1.pub"]
    for name in ("ca.key", "server.key", "nodes/node-0", "nodes/node-1"):
        assert stat.S_IMODE((certs / name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE((certs / "ca.crt").stat().st_mode) == 0o644
    assert not list(certs.glob(".*"))  # no temporary files left behind


def test_commands_carry_tls_and_authentication(certs):
    link = deploy.superlink_command(certs, port=29200)
    assert {f"--ssl-ca-certfile={certs / 'ca.crt'}", f"--ssl-certfile={certs / 'server.pem'}",
            f"--ssl-keyfile={certs / 'server.key'}", "--enable-supernode-auth",
            "--port=29200"} <= set(link) and "--insecure" not in link
    node = deploy.supernode_command(certs, 1, "10.1.2.3:29200", node_config="partition-id=1")
    assert node[1:] == [f"--root-certificates={certs / 'ca.crt'}", "--superlink=10.1.2.3:29200",
                        f"--auth-supernode-private-key={certs / 'nodes' / 'node-1'}",
                        "--port=29111", "--node-config=partition-id=1"]
    assert f'root-certificates = "{(certs / "ca.crt").resolve()}"' in \
        deploy.connection_config(certs, "127.0.0.1:29200")


def test_bad_input_is_one_clear_error(certs, tmp_path, capsys):
    with pytest.raises(ValueError, match="already holds certificates"):
        deploy.make_certificates(certs)
    cases = [
        (["federated", "client", str(certs), "--node", "5"],
         "no key for node 5 in .*nodes; the nodes there are 0, 1"),
        (["federated", "serve", str(tmp_path)],
         "the SuperLink needs ca.crt, server.pem, server.key in .*, which lacks them"),
        (["federated", "certs", str(tmp_path / "x"), "--nodes", "0"], "nodes=0"),
    ]
    for argv, message in cases:
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1
        assert re.search(message, err), err
    (tmp_path / "nodes").mkdir()
    shutil.copy(certs / "nodes" / "node-0", tmp_path / "nodes")
    with pytest.raises(ValueError, match="node 0 needs ca.crt"):
        deploy.supernode_command(tmp_path, 0)
