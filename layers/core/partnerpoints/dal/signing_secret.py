"""The click signing secret, read from Secrets Manager once per execution environment."""

from __future__ import annotations

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from partnerpoints.exceptions import StorageUnavailable
from partnerpoints.settings import Settings


def read_signing_secret(settings: Settings) -> str:
    secret_arn: str = settings.required("click_signing_secret_arn")
    client = boto3.client(
        "secretsmanager",
        region_name=settings.region,
        config=Config(connect_timeout=1, read_timeout=2, retries={"mode": "standard", "max_attempts": 3}),
    )
    try:
        value: str = client.get_secret_value(SecretId=secret_arn)["SecretString"]
    except (BotoCoreError, ClientError) as error:
        raise StorageUnavailable("the click signing secret could not be read") from error
    return value
