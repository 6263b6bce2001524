"""Discovery and OAuth: what the databricks-sdk fetches while it builds a client.

``/.well-known/databricks-config`` gives the workspace id (so the SDK sends
``X-Databricks-Workspace-Id``) and the OIDC root; ``{oidc}/.well-known/oauth-authorization-server``
names the token endpoint; ``POST /oidc/v1/token`` runs the client_credentials grant (OAuth M2M).
"""

from __future__ import annotations

import base64
import binascii
import json
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from starlette.responses import Response

from lakeserve.emulator.context import EmulatorContext
from lakeserve.emulator.wire import json_response

HOST_METADATA = "/.well-known/databricks-config"
OIDC_ROOT = "/oidc"
OIDC_DISCOVERY = OIDC_ROOT + "/.well-known/oauth-authorization-server"
TOKEN_PATH = OIDC_ROOT + "/v1/token"


def build_router(ctx: EmulatorContext) -> APIRouter:
    router = APIRouter()

    @router.get(HOST_METADATA)
    async def host_metadata(request: Request) -> Response:
        return json_response({"oidc_endpoint": _base(request) + OIDC_ROOT,
                              "workspace_id": ctx.workspace_id, "account_id": ctx.account_id,
                              "cloud": "AWS"})

    @router.get(OIDC_DISCOVERY)
    async def oidc_discovery(request: Request) -> Response:
        root = _base(request) + OIDC_ROOT
        return json_response({
            "issuer": root, "authorization_endpoint": root + "/v1/authorize",
            "token_endpoint": root + "/v1/token", "jwks_uri": root + "/jwks.json",
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                      "client_secret_post"],
            "scopes_supported": ["all-apis"], "response_types_supported": ["code"]})

    @router.post(TOKEN_PATH)
    async def token(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type",
                                "Only the client_credentials grant is supported")
        client_id, client_secret = _client(request, form)
        issued = ctx.auth.issue(client_id, client_secret, ctx.settings.oauth_token_seconds)
        if issued is None:
            return _oauth_error(401, "invalid_client", "Client authentication failed")
        return json_response({"access_token": issued.access_token, "token_type": "Bearer",
                              "expires_in": issued.expires_in,
                              "scope": form.get("scope", "all-apis")})

    return router


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _client(request: Request, form: dict[str, str]) -> tuple[str, str]:
    """Client credentials from HTTP Basic auth (what the SDK sends) or the form."""
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
            return user, password
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
    return form.get("client_id", ""), form.get("client_secret", "")


def _oauth_error(status: int, error: str, description: str) -> Response:
    return Response(json.dumps({"error": error, "error_description": description}),
                    status_code=status, media_type="application/json")
