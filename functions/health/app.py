"""HealthFunction: GET /health, a liveness probe that touches no data."""

from typing import Any, Literal

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from partnerpoints import __version__
from partnerpoints.http_api import create_http_app
from partnerpoints.observability import logger, metrics, tracer
from partnerpoints.settings import Requirements

# Checked at import, the function's init: a deployment that lacks one of these fails here, named.
REQUIREMENTS = Requirements()  # no data: only that what it is given is well formed
REQUIREMENTS.check()

app = create_http_app()


class Health(BaseModel):
    status: Literal["ok"]
    version: str


@app.get("/health", tags=["operations"], summary="Liveness: the API answers; no data is touched")
@tracer.capture_method
def get_health() -> Health:
    return Health(status="ok", version=__version__)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
