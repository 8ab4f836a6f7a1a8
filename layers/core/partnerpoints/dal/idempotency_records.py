"""Where Powertools Idempotency keeps its records: the template's IdempotencyTable."""

from __future__ import annotations

import boto3
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from partnerpoints.settings import Settings

IDEMPOTENCY_TABLE = "IdempotencyTable"


def idempotency_records(settings: Settings) -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(
        table_name=settings.table_name(IDEMPOTENCY_TABLE),
        boto3_client=boto3.client(
            "dynamodb", region_name=settings.region, endpoint_url=settings.dynamodb_endpoint_url
        ),
    )
