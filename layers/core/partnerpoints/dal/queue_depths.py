"""How many messages an SQS queue holds (boto3), for the operator console."""

from __future__ import annotations

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from partnerpoints.exceptions import StorageUnavailable
from partnerpoints.models.operations import QueueDepth
from partnerpoints.settings import Settings

_COUNTS = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]


class QueueDepths:
    def __init__(self, settings: Settings) -> None:
        self._sqs = boto3.client("sqs", region_name=settings.region)

    def depth(self, queue_url: str) -> QueueDepth:
        try:
            attributes = self._sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=_COUNTS)[
                "Attributes"
            ]
        except (BotoCoreError, ClientError) as error:
            raise StorageUnavailable("a queue's depth could not be read") from error
        return QueueDepth(messages=int(attributes[_COUNTS[0]]), in_flight=int(attributes[_COUNTS[1]]))
