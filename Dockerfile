# The lakeserve operator image: `lakeserve run` and its runtime dependencies only (kopf, the
# Kubernetes client, databricks-sdk, pydantic, PyYAML, prometheus-client). The emulator and the
# dev/training extras (fastapi, mlflow, scikit-learn, …) are not installed: `lakeserve run`
# never imports them.
#
#   docker build -t registry.example.com/lakeserve:0.1.0 .
#
# Runs as a numeric non-root user and writes nothing outside /tmp, so it works with
# runAsNonRoot and readOnlyRootFilesystem (the Helm chart in charts/lakeserve sets both and
# mounts an emptyDir on /tmp). tests/unit/chart/test_dockerfile.py keeps ENTRYPOINT, CMD and
# USER in line with the chart; tests/e2e/chart/test_image_entrypoint.py runs the same command
# from a venv built the same way.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore
RUN python -m venv /opt/lakeserve
WORKDIR /src
COPY pyproject.toml README.md ./
COPY operator ./operator
# `.` without extras: the runtime dependencies only. pip compiles the .pyc files here, since
# the running container cannot write them.
RUN /opt/lakeserve/bin/pip install . \
 && /opt/lakeserve/bin/lakeserve --help > /dev/null

FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 lakeserve \
 && useradd --system --uid 10001 --gid 10001 --home-dir /tmp --no-create-home \
      --shell /usr/sbin/nologin lakeserve
COPY --from=build /opt/lakeserve /opt/lakeserve
ENV PATH=/opt/lakeserve/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    LAKESERVE_METRICS_PORT=9090
USER 10001:10001
WORKDIR /tmp
# 8080: kopf's liveness endpoint (/healthz); 9090: Prometheus metrics (/metrics).
EXPOSE 8080 9090
ENTRYPOINT ["lakeserve", "run"]
CMD ["--liveness", "http://0.0.0.0:8080/healthz"]
