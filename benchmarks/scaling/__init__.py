"""Parts of ``benchmarks/scale.py``: processes, the API server's audit log, load, runs, report."""
