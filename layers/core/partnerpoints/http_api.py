"""The HTTP API resolver every function uses: request validation on, §3 error bodies everywhere."""

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from partnerpoints.http_errors import register_error_handlers


def create_http_app() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)
    register_error_handlers(app)
    return app
