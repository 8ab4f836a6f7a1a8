"""PartnerKeyAuthorizerFunction: the HTTP API's Lambda authorizer of the /partner routes. It turns a
partner API key (`Authorization: Bearer ppk_...`) into the partner's id for the route.

It lets every request with the header through and says in its context whether the key holds: the
route then answers a refused key 401 with the error body naming why (unknown, revoked, expired),
where an authorizer's "no" would be a bare 403. API Gateway caches the answer per header value for
the template's ReauthorizeEvery, so a revoked key stops working within that time.
"""

from typing import Any

from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerEventV2,
    APIGatewayAuthorizerResponseV2,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from partnerpoints.exceptions import ApiKeyRefused
from partnerpoints.logic.partner_keys import get_partner_keys
from partnerpoints.observability import logger, metrics, tracer
from partnerpoints.settings import Requirements

# Checked at import, the function's init: a deployment that lacks one of these fails here, named.
REQUIREMENTS = Requirements(tables=("PartnerApiKeysTable",))
REQUIREMENTS.check()


def _bearer(value: str) -> str:
    return value[7:].strip() if value[:7].lower() == "bearer " else value.strip()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
@event_source(data_class=APIGatewayAuthorizerEventV2)
def lambda_handler(event: APIGatewayAuthorizerEventV2, context: LambdaContext) -> dict[str, Any]:
    offered = _bearer((event.identity_source or [""])[0])
    try:
        key = get_partner_keys().authenticate(offered)
    except ApiKeyRefused as refused:
        logger.info("partner api key refused", code=refused.code)
        return APIGatewayAuthorizerResponseV2(authorize=True, context={"refusal": refused.code}).asdict()
    logger.append_keys(partner_id=key.partner_id, key_id=key.key_id)
    return APIGatewayAuthorizerResponseV2(
        authorize=True, context={"partner_id": key.partner_id, "key_id": key.key_id}
    ).asdict()
