"""``lakeserve dev-cluster up|down|status|build``: the control plane for people at a shell."""

from __future__ import annotations

import argparse
import sys

from lakeserve.devcluster.build import BuildError, ensure_binaries
from lakeserve.devcluster.helm import ensure_helm
from lakeserve.devcluster.cluster import ClusterError, ClusterStatus, DevCluster


def main(args: argparse.Namespace) -> int:
    """Run the ``dev-cluster`` subcommand in ``args.cluster_command``; the exit status."""
    commands = {"up": _up, "down": _down, "status": _status, "build": _build,
                "restart": _restart}
    try:
        return commands[args.cluster_command](args)
    except (BuildError, ClusterError) as error:
        print(f"lakeserve dev-cluster: error: {error}", file=sys.stderr)
        return 1


def _up(args: argparse.Namespace) -> int:
    kubeconfig = DevCluster(args.dir).up()
    print(f"kubeconfig: {kubeconfig}")
    print(f"export KUBECONFIG={kubeconfig}")
    return 0


def _down(args: argparse.Namespace) -> int:
    cluster = DevCluster(args.dir)
    cluster.down()
    print(f"stopped the dev cluster in {cluster.directory} (logs kept in {cluster.logs})")
    return 0


def _restart(args: argparse.Namespace) -> int:
    cluster = DevCluster(args.dir)
    cluster.restart_apiserver()
    print(f"restarted kube-apiserver of the dev cluster in {cluster.directory} (same port)")
    return 0


def _status(args: argparse.Namespace) -> int:
    """Exit status 0 when every component runs, 1 otherwise, for use in scripts."""
    report = DevCluster(args.dir).status()
    print(describe_status(report))
    return 0 if report.running else 1


def _build(args: argparse.Namespace) -> int:
    binaries = ensure_binaries()
    for name, path in vars(binaries).items():
        print(f"{name.replace('_', '-')}: {path}")
    print(f"helm: {ensure_helm()}")  # the chart's tests use it
    return 0


def describe_status(report: ClusterStatus) -> str:
    """Human-readable lines for ``status``."""
    if not report.components:
        return f"not running (no state in {report.directory})"
    lines = [f"{'running' if report.running else 'NOT running'}: {report.directory}"]
    lines += [f"  {name}: {'up' if alive else 'down'}" for name, alive in report.components.items()]
    if report.running:
        lines += [f"  server: {report.server}", f"  export KUBECONFIG={report.kubeconfig}"]
    return "\n".join(lines)
