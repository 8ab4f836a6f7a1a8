"""The HTTP API's authorizers, locally: JWT authorizers verify tokens signed with the development key;
IAM-authorized routes are accepted and marked as called by a local admin.

The development key is fixed and public on purpose: any local stack accepts a token printed by any
`partnerpoints local token`. It is never configured in AWS, where the JWT authorizer trusts only the
issuer the template names (its JWKS keys).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import jwt

LOCAL_DEVELOPMENT_KEY = "partnerpoints-local-development-key: not a secret, never used in AWS"
TOKEN_ALGORITHM = "HS256"  # noqa: S105 - an algorithm name, not a password
TOKEN_LIFETIME_SECONDS = 12 * 3600
LOCAL_ADMIN_ARN = "arn:aws:iam::{account}:user/local-admin"
_SIGV4_CREDENTIAL = re.compile(r"Credential=([A-Z0-9]+)/")


@dataclass(frozen=True)
class JwtAuthorizer:
    name: str
    issuer: str
    audience: tuple[str, ...]
    identity_header: str  # lower-cased, from "$request.header.Authorization"


class Unauthorized(Exception):
    """401: no token, or one that does not verify."""


class Forbidden(Exception):
    """403: a valid token without any of the route's scopes."""


def create_token(authorizer: JwtAuthorizer, subject: str, scopes: list[str], now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": authorizer.issuer,
        "aud": authorizer.audience[0] if authorizer.audience else "partnerpoints-local",
        "sub": subject,
        "iat": issued,
        "exp": issued + TOKEN_LIFETIME_SECONDS,
    }
    if scopes:
        claims["scope"] = " ".join(scopes)
    return jwt.encode(claims, LOCAL_DEVELOPMENT_KEY, algorithm=TOKEN_ALGORITHM)


def _as_gateway_string(value: Any) -> str:
    # API Gateway hands every claim to the function as a string; arrays look like "[a b]".
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + " ".join(str(item) for item in value) + "]"
    return str(value)


def verify(authorizer: JwtAuthorizer, headers: dict[str, str], route_scopes: list[str]) -> dict[str, Any]:
    """The `requestContext.authorizer` of an authorized request; raises Unauthorized or Forbidden."""
    value = headers.get(authorizer.identity_header, "")
    token = value[7:] if value[:7].lower() == "bearer " else value
    if not token:
        raise Unauthorized("no token")
    try:
        claims = jwt.decode(
            token,
            LOCAL_DEVELOPMENT_KEY,
            algorithms=[TOKEN_ALGORITHM],
            audience=list(authorizer.audience) or None,
            issuer=authorizer.issuer,
            options={"require": ["exp", "iat", "iss", "sub"]},
        )
    except jwt.PyJWTError as error:
        raise Unauthorized(str(error)) from error
    scopes = str(claims.get("scope", "")).split()
    if route_scopes and not set(route_scopes) & set(scopes):
        raise Forbidden(f"the token has none of the scopes {route_scopes}")
    return {
        "jwt": {
            "claims": {name: _as_gateway_string(value) for name, value in claims.items()},
            "scopes": scopes or None,
        }
    }


def local_admin(headers: dict[str, str], account_id: str) -> dict[str, Any]:
    """What an IAM-authorized route sees locally: the caller's access key when the request is signed.
    Unsigned requests pass (a local convenience); one carrying another kind of credential (a member's
    or a partner's bearer token) is refused, as API Gateway refuses it."""
    authorization = headers.get("authorization", "")
    if authorization and not authorization.startswith("AWS4-HMAC-SHA256 "):
        raise Forbidden()
    signed = _SIGV4_CREDENTIAL.search(authorization)
    return {
        "iam": {
            "accessKey": signed.group(1) if signed else "LOCALADMIN",
            "accountId": account_id,
            "callerId": "AIDALOCALADMIN",
            "cognitoIdentity": None,
            "principalOrgId": None,
            "userArn": LOCAL_ADMIN_ARN.format(account=account_id),
            "userId": "AIDALOCALADMIN",
        }
    }
