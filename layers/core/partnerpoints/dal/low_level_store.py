"""The base of the stores that use boto3's low-level DynamoDB client rather than PynamoDB: the click
function's hot path, and the counters whose attribute names are data."""

from __future__ import annotations

from typing import Any, ClassVar

import boto3
from botocore.config import Config

from partnerpoints.settings import Settings


class LowLevelStore:
    client_config: ClassVar[Config | None] = None

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: Any = None

    @property
    def client(self) -> Any:
        # Created on first use, not at import: the click function's import is what its cold-start
        # budget measures.
        if self._client is None:
            self._client = boto3.client(
                "dynamodb",
                region_name=self._settings.region,
                endpoint_url=self._settings.dynamodb_endpoint_url,
                config=self.client_config,
            )
        return self._client
