"""Who the caller is (SCIM ``Me``), and the test knob that rotates personal access tokens.

``GET /api/2.0/preview/scim/v2/Me`` is what ``w.current_user.me()`` and ``w.get_workspace_id()``
call: the caller as a SCIM user (a service principal's ``userName`` is its application id, i.e.
the OAuth client id) with the workspace id in the ``X-Databricks-Org-Id`` header.
``/_emulator/tokens`` adds (``{"token", "user_name"?}``) and revokes (``/revoke``) personal
access tokens, so a credential can be rotated under a running operator.
"""

from __future__ import annotations

import hashlib

from databricks.sdk.service import iam
from fastapi import APIRouter, Request
from starlette.responses import Response

from lakeserve.emulator.context import EmulatorContext
from lakeserve.emulator.errors import invalid, not_found
from lakeserve.emulator.wire import json_response, read_json_object

ME_PATH = "/api/2.0/preview/scim/v2/Me"
ORG_ID_HEADER = "X-Databricks-Org-Id"
TOKENS_PATH = "/_emulator/tokens"
SERVICE_PRINCIPAL_NAME = "lakeserve emulator service principal"


def build_router(ctx: EmulatorContext) -> APIRouter:
    router = APIRouter()

    @router.get(ME_PATH)
    async def me(request: Request) -> Response:
        principal = getattr(request.state, "principal", None) or ctx.settings.user_name
        return json_response(_user(ctx, principal).as_dict(),
                             headers={ORG_ID_HEADER: ctx.workspace_id})

    @router.post(TOKENS_PATH)
    async def add_token(request: Request) -> Response:
        body = await read_json_object(request)
        user_name = body.get("user_name")
        if user_name is not None and (not isinstance(user_name, str) or not user_name):
            raise invalid("user_name must be a non-empty string")
        ctx.auth.add_token(_token(body), user_name)
        return json_response({"added": True})

    @router.post(TOKENS_PATH + "/revoke")
    async def revoke_token(request: Request) -> Response:
        if not ctx.auth.revoke_token(_token(await read_json_object(request))):
            raise not_found("No such added token (the --token one cannot be revoked)")
        return json_response({"revoked": True})

    return router


def _user(ctx: EmulatorContext, principal: str) -> iam.User:
    service_principal = principal == ctx.auth.client_id
    return iam.User(
        id=_scim_id(principal), user_name=principal, active=True,
        display_name=SERVICE_PRINCIPAL_NAME if service_principal else principal,
        emails=None if service_principal else [iam.ComplexValue(value=principal, primary=True)],
        schemas=[iam.UserSchema.URN_IETF_PARAMS_SCIM_SCHEMAS_CORE_2_0_USER])


def _scim_id(principal: str) -> str:
    # Stable per principal, digits only like Databricks' SCIM ids.
    return str(int(hashlib.sha256(principal.encode()).hexdigest()[:13], 16))


def _token(body: dict) -> str:
    token = body.get("token")
    if not isinstance(token, str) or len(token) < 8:
        raise invalid("token must be a string of at least 8 characters")
    return token
