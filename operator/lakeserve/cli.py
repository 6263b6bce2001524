"""The ``lakeserve`` command: run the operator, print CRDs, run the local workspace and cluster.

Each subcommand imports its own package lazily, so ``lakeserve run`` in the container never loads
the emulator's or the demo's libraries (they are extras and are not installed there).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _cmd_crds(args: argparse.Namespace) -> int:
    from lakeserve.api import KINDS
    from lakeserve.api.crd import render

    files = render(KINDS)
    if args.output_dir:
        from pathlib import Path

        out = Path(args.output_dir)
        out.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (out / name).write_text(text)
    else:
        sys.stdout.write("".join(files.values()))
    return 0


def _cmd_argocd_health(args: argparse.Namespace) -> int:
    from pathlib import Path

    from lakeserve.argocd import render_all

    scripts = render_all()
    if args.output_dir:
        for name, text in scripts.items():
            (Path(args.output_dir) / name).write_text(text)
    else:
        for name, text in scripts.items():
            sys.stdout.write(f"-- {name}\n{text}\n")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from lakeserve.controller import run_operator

    return run_operator(namespaces=args.namespace, all_namespaces=not args.namespace,
                        liveness=args.liveness, verbose=args.verbose)


def _cmd_emulator(args: argparse.Namespace) -> int:
    from lakeserve.emulator.server import serve

    return serve(host=args.host, port=args.port, token=args.token, data_dir=args.data_dir,
                 workspace_id=args.workspace_id, control=not args.no_control)


def _cmd_dev_cluster(args: argparse.Namespace) -> int:
    from lakeserve.devcluster.cli import main as dev_cluster_main

    return dev_cluster_main(args)


def _cmd_demo(args: argparse.Namespace) -> int:
    from lakeserve.demo.main import main as demo_main

    return demo_main(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lakeserve", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    crds = commands.add_parser("crds", help="print the CustomResourceDefinitions")
    crds.add_argument("--output-dir", help="write one file per CRD here instead of stdout")
    crds.set_defaults(func=_cmd_crds)

    health = commands.add_parser("argocd-health",
                                 help="print the Argo CD health checks (Lua), one per kind")
    health.add_argument("--output-dir", help="write <kind>.lua files here instead of stdout")
    health.set_defaults(func=_cmd_argocd_health)

    run = commands.add_parser("run", help="run the operator (Databricks credentials from the "
                                          "SDK's standard DATABRICKS_* environment variables)")
    run.add_argument("-n", "--namespace", action="append", default=[],
                     help="watch only this namespace (repeatable); all namespaces by default")
    run.add_argument("--liveness", default=None,
                     help="serve kopf's liveness probe here, e.g. http://0.0.0.0:8080/healthz")
    run.add_argument("--verbose", action="store_true", help="debug logging")
    run.set_defaults(func=_cmd_run)

    emulator = commands.add_parser("emulator", help="run the local Databricks-compatible workspace")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=8765)
    emulator.add_argument("--token", required=True, help="the Bearer token clients must send")
    emulator.add_argument("--data-dir", default=None,
                          help="keep the whole workspace here across restarts: registry, Delta "
                               "tables, endpoints, synced tables, functions, statements, "
                               "settings (a temp dir, forgotten on exit, otherwise)")
    emulator.add_argument("--workspace-id", default=None,
                          help="the workspace id it reports (tells several local workspaces "
                               "apart; a fixed id by default)")
    emulator.add_argument("--no-control", action="store_true",
                          help="turn off the test knobs under /_emulator/ (they answer 404), so "
                               "only Databricks' own APIs and clients can set the workspace up")
    emulator.set_defaults(func=_cmd_emulator)

    cluster = commands.add_parser("dev-cluster",
                                  help="a local kube-apiserver + etcd built from Go modules")
    cluster_commands = cluster.add_subparsers(dest="cluster_command", required=True)
    for name, text in (("up", "build (cached) and start the control plane"),
                       ("down", "stop it"), ("status", "tell whether it runs"),
                       ("restart", "restart kube-apiserver on the same port (a fault drill)")):
        sub = cluster_commands.add_parser(name, help=text)
        sub.add_argument("--dir", required=True, help="state directory; DIR/kubeconfig is written")
    cluster_commands.add_parser("build", help="only build (or find cached) binaries")
    cluster.set_defaults(func=_cmd_dev_cluster)

    demo = commands.add_parser("demo", help="the notebook's scenario end to end on this machine")
    demo.add_argument("--keep", action="store_true", help="leave everything running afterwards")
    demo.add_argument("--dir", default=None, help="working directory (a temp dir otherwise)")
    demo.set_defaults(func=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
