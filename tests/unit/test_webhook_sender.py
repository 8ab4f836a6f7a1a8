"""The webhook sender's TLS: the certificate is verified against the host name even though the
connection goes to the address checked before it (a self-signed receiver is not trusted)."""

from __future__ import annotations

import datetime as dt
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from partnerpoints.logic.postback_credentials import new_webhook_secret
from partnerpoints.logic.webhook_sender import Message, Outcome, WebhookSender
from partnerpoints.logic.webhook_targets import PrivateTargets

MESSAGE = Message("msg_1", "webhook.test", dt.datetime(2028, 2, 29, 12, tzinfo=dt.UTC), {"n": 1})


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[tuple[int, list[bytes]]]:
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers.get("content-length") or 0)))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    cert, key = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_receiver_whose_certificate_is_not_trusted_gets_nothing(
    tls_receiver: tuple[int, list[bytes]],
) -> None:
    port, received = tls_receiver
    sender = WebhookSender(
        PrivateTargets.ALLOW_LOOPBACK, resolver=lambda host, port: ["127.0.0.1"], timeout_seconds=5
    )
    attempt = sender.send(f"https://localhost:{port}/hook", MESSAGE, [new_webhook_secret()])
    assert (attempt.outcome, attempt.status_code) == (Outcome.FAILED, None)
    assert str(attempt.error).startswith("SSLError: no answer from localhost")
    assert received == []  # the TLS handshake failed before any byte of the message was sent


def test_the_body_is_the_event_envelope() -> None:
    assert MESSAGE.body() == '{"type":"webhook.test","timestamp":"2028-02-29T12:00:00Z","data":{"n":1}}'
