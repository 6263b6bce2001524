"""Experiments, runs and metrics (``/api/2.0/mlflow/experiments|runs|metrics/...``)."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi import APIRouter
from google.protobuf.message import Message
from mlflow.entities import (
    DatasetInput,
    ExperimentTag,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Param,
    RunStatus,
    RunTag,
    ViewType,
)
from mlflow.models import Model
from mlflow.protos import service_pb2 as svc

from lakeserve.emulator.errors import invalid
from lakeserve.emulator.protojson import Route, add_routes, required
from lakeserve.emulator.tracking.models import logged_model_routes
from lakeserve.emulator.tracking.store import Tracking

PREFIX = "/api/2.0/mlflow"
ORG_ID_HEADER = "X-Databricks-Org-Id"  # MLflow records a run's workspace from it (run links)


class TrackingApi:
    def __init__(self, tracking: Tracking, user: Callable[[], str]):
        self._tracking = tracking
        self._store = tracking.store
        self._user = user

    def routes(self) -> list[Route]:
        return [
            ("GET", "/experiments/get-by-name", svc.GetExperimentByName, self.experiment_by_name),
            ("POST", "/experiments/create", svc.CreateExperiment, self.create_experiment),
            ("GET", "/experiments/get", svc.GetExperiment, self.get_experiment),
            ("POST", "/experiments/search", svc.SearchExperiments, self.search_experiments),
            ("POST", "/experiments/set-experiment-tag", svc.SetExperimentTag,
             self.set_experiment_tag),
            ("POST", "/runs/create", svc.CreateRun, self.create_run),
            ("POST", "/runs/update", svc.UpdateRun, self.update_run),
            ("GET", "/runs/get", svc.GetRun, self.get_run),
            ("POST", "/runs/delete", svc.DeleteRun, self.delete_run),
            ("POST", "/runs/search", svc.SearchRuns, self.search_runs),
            ("POST", "/runs/log-metric", svc.LogMetric, self.log_metric),
            ("POST", "/runs/log-parameter", svc.LogParam, self.log_param),
            ("POST", "/runs/set-tag", svc.SetTag, self.set_tag),
            ("POST", "/runs/delete-tag", svc.DeleteTag, self.delete_tag),
            ("POST", "/runs/log-batch", svc.LogBatch, self.log_batch),
            ("POST", "/runs/log-inputs", svc.LogInputs, self.log_inputs),
            ("POST", "/runs/outputs", svc.LogOutputs, self.log_outputs),
            ("POST", "/runs/log-model", svc.LogModel, self.log_model),
            ("GET", "/metrics/get-history", svc.GetMetricHistory, self.metric_history),
        ]

    # experiments

    def experiment_by_name(self, request: svc.GetExperimentByName) -> Message:
        found = self._tracking.experiment_by_name(request.experiment_name)
        return svc.GetExperimentByName.Response(experiment=found.to_proto())

    def create_experiment(self, request: svc.CreateExperiment) -> Message:
        required(request, "name")
        if request.artifact_location:
            raise invalid("artifact_location cannot be chosen in this workspace: experiment "
                          "artifacts are stored under dbfs:/databricks/mlflow-tracking")
        tags = [ExperimentTag(tag.key, tag.value) for tag in request.tags]
        return svc.CreateExperiment.Response(
            experiment_id=self._tracking.create_experiment(request.name, tags))

    def get_experiment(self, request: svc.GetExperiment) -> Message:
        experiment = self._tracking.experiment(request.experiment_id)
        return svc.GetExperiment.Response(experiment=experiment.to_proto())

    def search_experiments(self, request: svc.SearchExperiments) -> Message:
        found = self._store.search_experiments(
            view_type=request.view_type or ViewType.ACTIVE_ONLY,
            max_results=request.max_results or 1000, filter_string=request.filter or None,
            order_by=list(request.order_by) or None, page_token=request.page_token or None)
        return svc.SearchExperiments.Response(
            experiments=[e.to_proto() for e in found if e.experiment_id != "0"],
            next_page_token=found.token or "")

    def set_experiment_tag(self, request: svc.SetExperimentTag) -> Message:
        self._tracking.experiment(request.experiment_id)
        self._store.set_experiment_tag(request.experiment_id,
                                       ExperimentTag(request.key, request.value))
        return svc.SetExperimentTag.Response()

    # runs

    def create_run(self, request: svc.CreateRun) -> Message:
        self._tracking.check_run_experiment(request.experiment_id)
        run = self._store.create_run(  # the run belongs to the caller, whatever user_id says
            experiment_id=request.experiment_id, user_id=self._user(),
            start_time=request.start_time, tags=[RunTag(t.key, t.value) for t in request.tags],
            run_name=request.run_name or None)
        return svc.CreateRun.Response(run=run.to_proto())

    def update_run(self, request: svc.UpdateRun) -> Message:
        run_id = request.run_id or request.run_uuid
        current = self._store.get_run(run_id).info
        status = RunStatus.to_string(request.status) if request.HasField("status") \
            else current.status
        info = self._store.update_run_info(
            run_id, RunStatus.from_string(status),
            request.end_time if request.HasField("end_time") else current.end_time,
            request.run_name or None)
        return svc.UpdateRun.Response(run_info=info.to_proto())

    def get_run(self, request: svc.GetRun) -> Message:
        run = self._store.get_run(request.run_id or request.run_uuid)
        return svc.GetRun.Response(run=run.to_proto())

    def delete_run(self, request: svc.DeleteRun) -> Message:
        self._store.delete_run(request.run_id)
        return svc.DeleteRun.Response()

    def search_runs(self, request: svc.SearchRuns) -> Message:
        found = self._store.search_runs(
            experiment_ids=list(request.experiment_ids), filter_string=request.filter or "",
            run_view_type=request.run_view_type or ViewType.ACTIVE_ONLY,
            max_results=request.max_results or 1000, order_by=list(request.order_by) or None,
            page_token=request.page_token or None)
        return svc.SearchRuns.Response(runs=[r.to_proto() for r in found],
                                       next_page_token=found.token or "")

    def log_metric(self, request: svc.LogMetric) -> Message:
        metric = Metric(request.key, request.value, request.timestamp, request.step,
                        model_id=request.model_id or None,
                        dataset_name=request.dataset_name or None,
                        dataset_digest=request.dataset_digest or None)
        self._store.log_metric(request.run_id or request.run_uuid, metric)
        return svc.LogMetric.Response()

    def log_param(self, request: svc.LogParam) -> Message:
        self._store.log_param(request.run_id or request.run_uuid,
                              Param(request.key, request.value))
        return svc.LogParam.Response()

    def set_tag(self, request: svc.SetTag) -> Message:
        self._store.set_tag(request.run_id or request.run_uuid,
                            RunTag(request.key, request.value))
        return svc.SetTag.Response()

    def delete_tag(self, request: svc.DeleteTag) -> Message:
        self._store.delete_tag(request.run_id, request.key)
        return svc.DeleteTag.Response()

    def log_batch(self, request: svc.LogBatch) -> Message:
        self._store.log_batch(request.run_id,
                              metrics=[Metric.from_proto(m) for m in request.metrics],
                              params=[Param.from_proto(p) for p in request.params],
                              tags=[RunTag.from_proto(t) for t in request.tags])
        return svc.LogBatch.Response()

    def log_inputs(self, request: svc.LogInputs) -> Message:
        self._store.log_inputs(
            request.run_id, datasets=[DatasetInput.from_proto(d) for d in request.datasets],
            models=[LoggedModelInput.from_proto(m) for m in request.models] or None)
        return svc.LogInputs.Response()

    def log_outputs(self, request: svc.LogOutputs) -> Message:
        self._store.log_outputs(request.run_id,
                                [LoggedModelOutput.from_proto(m) for m in request.models])
        return svc.LogOutputs.Response()

    def log_model(self, request: svc.LogModel) -> Message:
        try:
            model = Model.from_dict(json.loads(request.model_json))
        except (ValueError, TypeError, KeyError):
            raise invalid("model_json is not a valid MLmodel description") from None
        self._store.record_logged_model(request.run_id, model)
        return svc.LogModel.Response()

    def metric_history(self, request: svc.GetMetricHistory) -> Message:
        found = self._store.get_metric_history(request.run_id or request.run_uuid,
                                               request.metric_key,
                                               max_results=request.max_results or None,
                                               page_token=request.page_token or None)
        return svc.GetMetricHistory.Response(metrics=[m.to_proto() for m in found],
                                             next_page_token=getattr(found, "token", None) or "")


def build_router(tracking: Tracking, user: Callable[[], str], workspace_id: str) -> APIRouter:
    router = APIRouter()
    headers = {ORG_ID_HEADER: workspace_id}
    add_routes(router, PREFIX, TrackingApi(tracking, user).routes(), headers)
    add_routes(router, PREFIX, logged_model_routes(tracking), headers)
    return router
