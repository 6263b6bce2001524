"""The dev cluster's keys and tokens: a CA, the API server's serving certificate, the
service-account signing key, and static bearer tokens for the admin and the controller manager.

Everything is generated once per state directory and reused, so a cluster restarted with the same
directory keeps accepting the kubeconfig and the service-account tokens it issued before.
"""

from __future__ import annotations

import csv
import datetime
import io
import ipaddress
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from lakeserve.devcluster.files import make_private_dir, write_private

ADMIN_USER = "lakeserve-admin"
CONTROLLER_MANAGER_USER = "system:kube-controller-manager"
# Both act as cluster-admin: the controller manager runs with its own credentials for every
# controller (no per-controller service accounts), so it needs more than its bootstrap role.
_MASTERS_GROUP = "system:masters"

# Names and addresses a client may use for the API server: loopback from this machine, and the
# in-cluster names and the first address of the service range that the `kubernetes` Service gets.
SERVING_DNS_NAMES = ("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                     "kubernetes.default.svc.cluster.local")
SERVING_IPS = ("127.0.0.1", "10.0.0.1")

# A dev cluster's directory may live for a long time; it should not stop working after a year.
_VALIDITY = datetime.timedelta(days=3650)


@dataclass(frozen=True)
class Credentials:
    """Files (in one private directory) and tokens the control plane is started with."""

    ca_cert: Path
    serving_cert: Path
    serving_key: Path
    service_account_key: Path
    service_account_public_key: Path
    token_file: Path
    admin_token: str
    controller_manager_token: str


def ensure_credentials(directory: Path) -> Credentials:
    """Load the credentials in ``directory``, generating whichever are missing."""
    make_private_dir(directory)
    credentials = Credentials(
        ca_cert=directory / "ca.crt",
        serving_cert=directory / "apiserver.crt",
        serving_key=directory / "apiserver.key",
        service_account_key=directory / "sa.key",
        service_account_public_key=directory / "sa.pub",
        token_file=directory / "tokens.csv",
        **_ensure_tokens(directory / "tokens.csv"),
    )
    _ensure_certificates(credentials, directory / "ca.key")
    _ensure_service_account_keys(credentials)
    return credentials


def _new_key() -> ec.EllipticCurvePrivateKey:
    # P-256: generated in milliseconds, accepted for serving and for signing service-account JWTs.
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey), f"{path} is not the EC key written here"
    return key


def _ensure_certificates(credentials: Credentials, ca_key_path: Path) -> None:
    if not (ca_key_path.exists() and credentials.ca_cert.exists()):
        ca_key = _new_key()
        write_private(ca_key_path, _key_pem(ca_key))
        credentials.ca_cert.write_bytes(_pem(_ca_certificate(ca_key)))
        credentials.serving_cert.unlink(missing_ok=True)  # signed by the old CA, if any
    if not (credentials.serving_cert.exists() and credentials.serving_key.exists()):
        ca_key = _load_key(ca_key_path)
        ca_cert = x509.load_pem_x509_certificate(credentials.ca_cert.read_bytes())
        serving_key = _new_key()
        write_private(credentials.serving_key, _key_pem(serving_key))
        certificate = _serving_certificate(serving_key, ca_key, ca_cert)
        credentials.serving_cert.write_bytes(_pem(certificate))


def _ensure_service_account_keys(credentials: Credentials) -> None:
    if credentials.service_account_key.exists() and credentials.service_account_public_key.exists():
        return
    key = _new_key()
    write_private(credentials.service_account_key, _key_pem(key))
    credentials.service_account_public_key.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate_builder(subject: x509.Name, issuer: x509.Name,
                         key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))  # tolerate small clock skew
            .not_valid_after(now + _VALIDITY))


def _ca_certificate(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = _name("lakeserve-dev-cluster-ca")
    return (_certificate_builder(name, name, key)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))


def _serving_certificate(key: ec.EllipticCurvePrivateKey, ca_key: ec.EllipticCurvePrivateKey,
                         ca_cert: x509.Certificate) -> x509.Certificate:
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in SERVING_DNS_NAMES]
    names += [x509.IPAddress(ipaddress.ip_address(address)) for address in SERVING_IPS]
    return (_certificate_builder(_name("kube-apiserver"), ca_cert.subject, key)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))


def _ensure_tokens(path: Path) -> dict[str, str]:
    """The admin's and the controller manager's tokens, from kube-apiserver's token file."""
    users = {ADMIN_USER: "admin_token", CONTROLLER_MANAGER_USER: "controller_manager_token"}
    tokens = read_token_file(path) if path.exists() else {}
    if set(users) - set(tokens):
        tokens = {user: secrets.token_urlsafe(32) for user in users}
        write_private(path, render_token_file(tokens))
    return {field: tokens[user] for user, field in users.items()}


def render_token_file(tokens: dict[str, str]) -> str:
    """kube-apiserver's --token-auth-file: ``token,user,uid,"group1,group2"`` per line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for user, token in tokens.items():
        writer.writerow([token, user, user, _MASTERS_GROUP])
    return out.getvalue()


def read_token_file(path: Path) -> dict[str, str]:
    """User name → token, from a file written by :func:`render_token_file`."""
    return {row[1]: row[0] for row in csv.reader(io.StringIO(path.read_text())) if len(row) >= 2}
