"""Who may call the API: the workspace's personal access tokens, or OAuth tokens issued to a client.

Tokens are compared in constant time and never echoed in messages. Issued OAuth tokens and the
personal access tokens added after startup (``/_emulator/tokens``, for rotation drills) are kept
as SHA-256 digests only, so the persisted workspace state holds no usable credential.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass

from lakeserve.emulator.clock import Clock
from lakeserve.emulator.errors import unauthenticated

MISSING_CREDENTIAL = "Credential was not sent or was of an unsupported type for this API."
INVALID_TOKEN = "Invalid access token."
# An added personal access token: it acts as the workspace user and never expires (until revoked).
_PAT_PRINCIPAL = ""
_NEVER = 1e18


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    principal: str


class TokenAuthority:
    def __init__(self, token: str, clock: Clock, user_name: Callable[[], str],
                 client: ClientCredentials | None = None):
        self._token = token.encode()
        self._clock = clock
        self._user_name = user_name
        self._client = client
        # SHA-256 of an access token -> (principal, expiry)
        self._issued: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    @property
    def oauth_enabled(self) -> bool:
        return self._client is not None

    @property
    def client_id(self) -> str | None:
        """The OAuth client's id (a service principal's application id), if any."""
        return self._client.client_id if self._client else None

    def principal(self, authorization: str | None) -> str:
        """The caller named by an ``Authorization`` header; raises 401 ``UNAUTHENTICATED``."""
        if not authorization:
            raise unauthenticated(MISSING_CREDENTIAL)
        scheme, _, credential = authorization.partition(" ")
        if scheme.lower() != "bearer" or not credential:
            raise unauthenticated(MISSING_CREDENTIAL)
        credential = credential.strip()
        if hmac.compare_digest(credential.encode(), self._token):
            return self._user_name()
        principal = self._oauth_principal(credential)
        if principal is None:
            raise unauthenticated(INVALID_TOKEN)
        return principal

    def issue(self, client_id: str, client_secret: str, lifetime: float) -> IssuedToken | None:
        """An access token for valid client credentials (client_credentials grant), else None."""
        if self._client is None or not _same(client_id, self._client.client_id) \
                or not _same(client_secret, self._client.client_secret):
            return None
        access_token = secrets.token_urlsafe(32)
        with self._lock:
            self._forget_expired()
            self._issued[_digest(access_token)] = (client_id, self._clock.now() + lifetime)
        return IssuedToken(access_token, int(lifetime), client_id)

    def add_token(self, token: str, user_name: str | None = None) -> None:
        """Accept one more personal access token, acting as ``user_name`` (default: the
        workspace user)."""
        with self._lock:
            self._issued[_digest(token)] = (user_name or _PAT_PRINCIPAL, _NEVER)

    def revoke_token(self, token: str) -> bool:
        """Stop accepting an added personal access token; False when it was not one."""
        with self._lock:
            entry = self._issued.get(_digest(token))
            if entry is None or entry[1] != _NEVER:
                return False
            del self._issued[_digest(token)]
            return True

    def forget_added_tokens(self) -> None:
        with self._lock:
            self._issued = {d: e for d, e in self._issued.items() if e[1] != _NEVER}

    def _oauth_principal(self, credential: str) -> str | None:
        with self._lock:
            entry = self._issued.get(_digest(credential))
        if entry is None or entry[1] <= self._clock.now():
            return None
        return entry[0] or self._user_name()

    def snapshot(self) -> dict[str, tuple[str, float]]:
        """The issued tokens that are still valid, by digest (a restart keeps clients logged in)."""
        with self._lock:
            self._forget_expired()
            return dict(self._issued)

    def restore(self, issued: dict[str, tuple[str, float]]) -> None:
        with self._lock:
            self._issued = {digest: (principal, expiry)
                            for digest, (principal, expiry) in issued.items()}

    def _forget_expired(self) -> None:
        now = self._clock.now()
        for token in [t for t, (_, expiry) in self._issued.items() if expiry <= now]:
            del self._issued[token]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
