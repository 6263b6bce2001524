"""``lakeserve emulator``: run the app with uvicorn in this process."""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from pathlib import Path

CLIENT_ID_ENV = "LAKESERVE_EMULATOR_CLIENT_ID"
CLIENT_SECRET_ENV = "LAKESERVE_EMULATOR_CLIENT_SECRET"


def serve(host: str, port: int, token: str, data_dir: str | Path | None = None, *,
          client_id: str | None = None, client_secret: str | None = None,
          workspace_id: str | None = None, log_level: str = "warning",
          control: bool = True) -> int:
    """Serve until interrupted. OAuth M2M client credentials come from the arguments or, when
    absent, from ``LAKESERVE_EMULATOR_CLIENT_ID``/``LAKESERVE_EMULATOR_CLIENT_SECRET`` (kept out
    of the command line, where any local user could read them). ``control`` False turns off
    ``/_emulator/``."""
    import uvicorn

    from lakeserve.emulator.app import create_app

    # uvicorn shuts down gracefully on SIGTERM, then re-raises it; exiting normally lets the
    # temporary data dir be removed.
    signal.signal(signal.SIGTERM, _exit_normally)
    persist = data_dir is not None  # a given data dir keeps the whole workspace
    with contextlib.ExitStack() as cleanup:
        if data_dir is None:  # a throwaway workspace: removed when the server stops
            data_dir = cleanup.enter_context(tempfile.TemporaryDirectory(
                prefix="lakeserve-emulator-", ignore_cleanup_errors=True))
        app = create_app(token, data_dir, persist=persist,
                         client_id=client_id or os.environ.get(CLIENT_ID_ENV) or None,
                         client_secret=client_secret or os.environ.get(CLIENT_SECRET_ENV) or None,
                         workspace_id=workspace_id, control=control)
        uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False,
                    timeout_graceful_shutdown=2)
    return 0


def _exit_normally(signum: int, frame: object) -> None:
    raise SystemExit(0)
