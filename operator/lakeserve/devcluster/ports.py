"""Picking free TCP ports on loopback for the control-plane components."""

from __future__ import annotations

import socket
from contextlib import ExitStack

LOOPBACK = "127.0.0.1"


def free_loopback_ports(count: int) -> list[int]:
    """``count`` distinct ports that were free on 127.0.0.1 a moment ago.

    All sockets stay bound until every port is chosen, so the kernel cannot hand out the same
    port twice. Another process may still take one before our component binds it; the cluster
    start retries with new ports when a component reports its address in use.
    """
    with ExitStack() as sockets:
        ports = []
        for _ in range(count):
            probe = sockets.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            probe.bind((LOOPBACK, 0))
            ports.append(probe.getsockname()[1])
        return ports
