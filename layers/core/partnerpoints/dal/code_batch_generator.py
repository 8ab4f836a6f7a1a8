"""Starting the promo code generator function for a batch (boto3: Lambda)."""

from __future__ import annotations

import json

import boto3

from partnerpoints.settings import Settings


def start_code_batch(settings: Settings, batch_id: str) -> None:
    """Invoke the generator asynchronously: Lambda retries it, then sends it to the DLQ."""
    client = boto3.client("lambda", region_name=settings.region)
    client.invoke(
        FunctionName=settings.required("promo_code_batch_function_name"),
        InvocationType="Event",
        Payload=json.dumps({"batch_id": batch_id}).encode(),
    )
