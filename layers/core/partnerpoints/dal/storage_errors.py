"""What storage raises when AWS fails a call after the SDK's own retries (throttled, an internal error,
a timeout): the error map answers these 503 with Retry-After, as it does StorageUnavailable. Named here
because only the dal may know the SDK's and PynamoDB's exception classes."""

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

STORAGE_FAILURES: tuple[type[Exception], ...] = (PynamoDBException, BotoCoreError, ClientError)
