"""The app factory: shared machinery, then one router (and control router) per API area."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from lakeserve.emulator import control as control_knobs
from lakeserve.emulator import identity, oauth
from lakeserve.emulator.auth import ClientCredentials, TokenAuthority
from lakeserve.emulator.calllog import CallLog
from lakeserve.emulator.clock import Clock, SystemClock
from lakeserve.emulator.context import EmulatorContext
from lakeserve.emulator.errors import INTERNAL_ERROR, ApiError, invalid, no_such_api
from lakeserve.emulator.features import add_feature_side
from lakeserve.emulator.files.presigned import UrlSigner
from lakeserve.emulator.files.presigned import build_router as presigned_routes
from lakeserve.emulator.files.routes import build_router as file_routes
from lakeserve.emulator.files.store import FileStore
from lakeserve.emulator.gateway import Gateway
from lakeserve.emulator.inference_tables.control import (
    build_control_router as inference_table_control,
)
from lakeserve.emulator.inference_tables.writer import InferenceTableWriter
from lakeserve.emulator.invocations.control import build_control_router as invocation_control
from lakeserve.emulator.invocations.deployment import Deployer
from lakeserve.emulator.invocations.features import FeatureServing
from lakeserve.emulator.invocations.models import ModelStore
from lakeserve.emulator.invocations.routes import build_router as invocation_routes
from lakeserve.emulator.invocations.service import InvocationService
from lakeserve.emulator.persistence import STATE_FILE, Persistence
from lakeserve.emulator.registry.control import build_control_router as registry_control
from lakeserve.emulator.registry.mlflow_routes import MlflowUcApi
from lakeserve.emulator.registry.mlflow_routes import build_router as mlflow_uc_routes
from lakeserve.emulator.registry.native_routes import build_router as native_uc_routes
from lakeserve.emulator.registry.registration import MODELS_ROOT, Registration
from lakeserve.emulator.registry.routes import build_router as registry_routes
from lakeserve.emulator.registry.store import ModelRegistry
from lakeserve.emulator.serving.control import build_control_router as serving_control
from lakeserve.emulator.serving.routes import build_router as serving_routes
from lakeserve.emulator.serving.service import ServingService
from lakeserve.emulator.settings import EmulatorSettings
from lakeserve.emulator.tracking.routes import build_router as tracking_routes
from lakeserve.emulator.tracking.store import TRACKING_ROOT, Tracking

log = logging.getLogger(__name__)


def create_app(token: str, data_dir: str | Path | None = None, *,
               client_id: str | None = None, client_secret: str | None = None,
               settings: EmulatorSettings | dict[str, Any] | None = None,
               clock: Clock | None = None, persist: bool | None = None,
               control: bool = True, workspace_id: str | None = None) -> FastAPI:
    """The emulator as an ASGI app.

    ``token`` is the Bearer token clients must send; with ``client_id``/``client_secret`` OAuth
    M2M is served too. ``data_dir`` holds the registry (``mlflow.db``), the Files area and the
    Delta tables; a temp dir when None. With ``persist`` (default: when a ``data_dir`` is given)
    every other area's state is kept in ``<data_dir>/workspace-state.db`` and restored from it at
    startup. ``settings`` are the startup values ``POST /_emulator/reset`` returns to. ``control``
    False turns off everything under ``/_emulator/`` (they answer 404 like any unknown path).
    ``workspace_id`` tells two local workspaces apart (a fixed id otherwise).
    """
    if not token:
        raise ValueError("the emulator needs a non-empty token")
    directory = _data_dir(data_dir)
    if persist is None:
        persist = data_dir is not None
    persistence = Persistence(directory / STATE_FILE if persist else None)
    ctx = _context(token, directory, client_id, client_secret, settings,
                   clock or SystemClock(), persistence)
    if workspace_id:
        ctx.workspace_id = workspace_id
    ctx.control = control
    app = FastAPI(title="lakeserve emulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.emulator = ctx
    _install_error_handlers(app)
    app.include_router(oauth.build_router(ctx))
    app.include_router(control_knobs.build_router(ctx))
    app.include_router(identity.build_router(ctx))
    _add_registry(app, ctx)
    _add_serving(app, ctx)
    add_feature_side(app, ctx)  # before invocations: they look features up in it
    # Restored after the feature side: a config serving a feature spec resolves it again.
    ctx.persistence.register("serving_endpoints", app.state.serving)
    _add_invocations(app, ctx)
    app.add_middleware(Gateway, ctx=ctx)
    _restore(app, ctx)
    return app


def _context(token: str, data_dir: Path, client_id: str | None, client_secret: str | None,
             settings: EmulatorSettings | dict[str, Any] | None, clock: Clock,
             persistence: Persistence) -> EmulatorContext:
    if bool(client_id) != bool(client_secret):
        raise ValueError("client_id and client_secret go together")
    startup = _settings(settings)
    client = ClientCredentials(client_id, client_secret) if client_id and client_secret else None
    auth = TokenAuthority(token, clock, lambda: ctx.settings.user_name, client)
    ctx = EmulatorContext(settings=startup, clock=clock, auth=auth, data_dir=data_dir,
                          calls=CallLog(startup.call_log_max), persistence=persistence)
    persistence.register("workspace", ctx)
    persistence.register("oauth_tokens", auth)
    ctx.on_reset(lambda options: auth.forget_added_tokens())
    return ctx


def _restore(app: FastAPI, ctx: EmulatorContext) -> None:
    """Load the persisted state (every area is registered by now); save once more on shutdown."""
    ctx.persistence.load()

    def shutdown() -> None:
        ctx.persistence.save()  # what reads moved on since the last write request
        ctx.persistence.close()

    app.router.add_event_handler("shutdown", shutdown)


def _add_registry(app: FastAPI, ctx: EmulatorContext) -> None:
    """The UC model registry (SDK paths and MLflow's UC protocol), the Files area holding model
    and tracking artifacts, and MLflow tracking, all on the data dir's MLflow database."""
    registry = ModelRegistry(ctx.data_dir, lambda: ctx.settings.user_name)
    files = FileStore(ctx.data_dir)
    registration = Registration(registry, files)
    files.serve(MODELS_ROOT, registration.check_writable)
    files.serve(TRACKING_ROOT, lambda path: None)  # any authenticated caller may write
    uc_api = MlflowUcApi(registry, registration, ctx.clock,
                         files_api=lambda: ctx.settings.mlflow_uc_artifacts == "files_api")
    app.state.registry = registry
    app.state.files = files
    app.include_router(registry_routes(registry))
    app.include_router(native_uc_routes(registry, registration, ctx.clock))
    app.include_router(mlflow_uc_routes(uc_api))
    app.include_router(registry_control(registry))
    app.include_router(file_routes(files))
    app.include_router(presigned_routes(files, UrlSigner(ctx.clock)))
    app.include_router(tracking_routes(Tracking(registry.uri), lambda: ctx.settings.user_name,
                                       ctx.workspace_id))

    def reset(options: dict[str, Any]) -> None:
        if options.get("registry"):
            registry.delete_all()
            registration.wipe()
    ctx.on_reset(reset)


def _add_serving(app: FastAPI, ctx: EmulatorContext) -> None:
    # Each submitted config loads its models while IN_PROGRESS (the invocations area serves them).
    # Feature specs live on the feature side, wired after serving: looked up when used.
    app.state.deployer = Deployer(ModelStore(app.state.registry.uri),
                                  feature_plans=lambda name: app.state.feature_specs.plan(name))
    service = ServingService(ctx, app.state.registry.version_status,
                             deploy=app.state.deployer.deploy,
                             is_feature_spec=lambda name: app.state.feature_specs.exists(name))
    app.state.serving = service
    app.include_router(serving_routes(service, ctx))
    app.include_router(serving_control(service))
    ctx.on_reset(service.reset)


def _add_invocations(app: FastAPI, ctx: EmulatorContext) -> None:
    deployer: Deployer = app.state.deployer
    tables = InferenceTableWriter(ctx.data_dir, lambda: ctx.settings.inference_table_flush_seconds)
    features = FeatureServing(app.state.online_tables, app.state.functions)
    invocations = InvocationService(ctx, app.state.serving, tables, features=features)
    app.state.inference_tables = tables
    app.include_router(invocation_routes(invocations))
    app.include_router(invocation_control(invocations, deployer.models))
    app.include_router(inference_table_control(tables))

    def reset(options: dict[str, Any]) -> None:
        tables.discard()
        invocations.seed(None)
        if options.get("registry"):  # versions may come back with other sources
            deployer.models.clear()

    def shutdown() -> None:
        tables.close()  # buffered rows reach their tables before the process exits
        invocations.shutdown()
        deployer.shutdown()

    ctx.on_reset(reset)
    app.router.add_event_handler("shutdown", shutdown)


def _settings(value: EmulatorSettings | dict[str, Any] | None) -> EmulatorSettings:
    if isinstance(value, EmulatorSettings):
        return value.copy()
    settings = EmulatorSettings()
    if value:
        settings.update(value)
    return settings


def _data_dir(value: str | Path | None) -> Path:
    if value is None:
        return Path(tempfile.mkdtemp(prefix="lakeserve-emulator-"))
    path = Path(value).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, error: ApiError) -> Response:
        return _error_response(error)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        if error.status_code in (404, 405):  # Databricks answers unknown method+path alike
            return _error_response(no_such_api(request.method, request.url.path))
        return _error_response(ApiError(error.status_code, "UNKNOWN", str(error.detail)))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, error: RequestValidationError) -> Response:
        return _error_response(invalid(str(error.errors())))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error_response(ApiError(500, INTERNAL_ERROR, f"Internal error: {error}"))


def _error_response(error: ApiError) -> Response:
    return Response(error.body(), status_code=error.status, headers=error.headers(),
                    media_type="application/json")
