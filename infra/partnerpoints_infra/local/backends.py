"""Where the local stack keeps its data: moto's server (in this process) for everything, or AWS
DynamoDB Local for the tables with moto for S3 and SQS."""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from moto.server import ThreadedMotoServer

from partnerpoints_infra.dynamodb_local import dynamodb_local
from partnerpoints_infra.provision import Endpoints


def _reset(moto_url: str) -> None:
    # Our own loopback server, http by construction.
    request = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=30):  # noqa: S310
        pass


@contextmanager
def backends(use_dynamodb_local: bool, region: str = "us-east-1") -> Iterator[Endpoints]:
    """Start the storage backends on free loopback ports and stop them afterwards.

    moto runs as a server rather than a mock because each function runs in its own process, as in
    Lambda, and all of them must see the same tables, buckets and queues.
    """
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with ExitStack() as stack:
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        moto.start()
        stack.callback(moto.stop)
        host, port = moto.get_host_and_port()
        moto_url = f"http://{host}:{port}"
        # moto's backends are this process's globals, shared by every server it starts: a stack started
        # after another in the same process (the demo after a test, a test after a test) would find the
        # first one's tables, partners and orders. Each stack starts empty and leaves nothing behind.
        _reset(moto_url)
        stack.callback(_reset, moto_url)
        dynamodb = stack.enter_context(dynamodb_local()) if use_dynamodb_local else moto_url
        yield Endpoints(region=region, dynamodb=dynamodb, s3=moto_url, sqs=moto_url, secretsmanager=moto_url)
