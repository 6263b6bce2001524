"""Bearer auth with the workspace token or OAuth tokens issued to the M2M client."""

from __future__ import annotations

import pytest

from lakeserve.emulator.auth import TokenAuthority
from lakeserve.emulator.errors import ApiError
from lakeserve.emulator.persistence import codec

from .conftest import CLIENT, TOKEN


@pytest.mark.parametrize("header, reason", [
    (None, "no header"),
    ("", "empty header"),
    (f"Basic {TOKEN}", "wrong scheme"),
    ("Bearer", "scheme without a credential"),
    ("Bearer wrong-token", "wrong token"),
])
def test_bad_credentials_are_unauthenticated_without_echoing_them(ctx, header, reason):
    with pytest.raises(ApiError) as caught:
        ctx.auth.principal(header)
    assert (caught.value.status, caught.value.error_code) == (401, "UNAUTHENTICATED"), reason
    assert TOKEN not in caught.value.message and "wrong-token" not in caught.value.message


def test_the_workspace_token_belongs_to_the_configured_user(ctx):
    assert ctx.auth.principal(f"Bearer {TOKEN}") == ctx.settings.user_name
    ctx.settings.user_name = "other@example.com"
    assert ctx.auth.principal(f"bearer {TOKEN}") == "other@example.com"


def test_oauth_tokens_are_issued_to_the_client_and_expire(ctx, clock):
    assert ctx.auth.issue(CLIENT.client_id, "wrong", 60) is None
    assert ctx.auth.issue("someone-else", CLIENT.client_secret, 60) is None
    issued = ctx.auth.issue(CLIENT.client_id, CLIENT.client_secret, 60)
    assert issued.expires_in == 60
    assert ctx.auth.principal(f"Bearer {issued.access_token}") == CLIENT.client_id
    clock.advance(60)
    with pytest.raises(ApiError, match="Invalid access token"):
        ctx.auth.principal(f"Bearer {issued.access_token}")


def test_issued_tokens_survive_a_restart_but_are_stored_as_digests_only(ctx, clock):
    issued = ctx.auth.issue(CLIENT.client_id, CLIENT.client_secret, 60)
    stored = codec.dumps(ctx.auth.snapshot())
    assert issued.access_token not in stored and CLIENT.client_secret not in stored
    restarted = TokenAuthority(TOKEN, clock, lambda: "user", CLIENT)
    restarted.restore(codec.loads(stored))
    assert restarted.principal(f"Bearer {issued.access_token}") == CLIENT.client_id
    clock.advance(60)
    assert restarted.snapshot() == {}, "expired tokens are not kept"


def test_added_tokens_act_as_the_workspace_user_until_revoked(ctx):
    ctx.auth.add_token("rotated-token-1")
    assert ctx.auth.principal("Bearer rotated-token-1") == ctx.settings.user_name
    assert ctx.auth.revoke_token("rotated-token-1")
    with pytest.raises(ApiError, match="Invalid access token"):
        ctx.auth.principal("Bearer rotated-token-1")
    assert ctx.auth.principal(f"Bearer {TOKEN}"), "the startup token stays"
    assert not ctx.auth.revoke_token(TOKEN), "the startup token cannot be revoked"


def test_added_tokens_never_expire_are_kept_as_digests_and_go_on_reset(ctx, clock):
    ctx.auth.add_token("rotated-token-2")
    clock.advance(10 * 365 * 86400)
    assert ctx.auth.principal("Bearer rotated-token-2") == ctx.settings.user_name
    assert "rotated-token-2" not in codec.dumps(ctx.auth.snapshot())
    ctx.auth.forget_added_tokens()
    with pytest.raises(ApiError):
        ctx.auth.principal("Bearer rotated-token-2")


def test_an_added_token_may_act_as_another_user(ctx):
    ctx.auth.add_token("rotated-token-3", "rotation@example.com")
    assert ctx.auth.principal("Bearer rotated-token-3") == "rotation@example.com"
    assert ctx.auth.revoke_token("rotated-token-3")
