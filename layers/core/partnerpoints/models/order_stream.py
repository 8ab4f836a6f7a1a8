"""The Orders table's stream records as the accrual function receives them: Powertools' DynamoDB stream
model with the new image parsed into an Order (a record whose image is not a valid order fails alone)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.parser.models import (
    DynamoDBStreamChangedRecordModel,
    DynamoDBStreamRecordModel,
)

from partnerpoints.models.orders import Order


class OrderChangeRecord(DynamoDBStreamChangedRecordModel):
    NewImage: Order | None = None  # narrowed from Powertools' dict
    OldImage: Order | None = None


class OrderStreamRecord(DynamoDBStreamRecordModel):
    dynamodb: OrderChangeRecord
