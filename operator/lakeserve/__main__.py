"""``python -m lakeserve``: the same command line as the ``lakeserve`` console script."""

from lakeserve.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
