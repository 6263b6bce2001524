"""MLflow 3 logged models (``/api/2.0/mlflow/logged-models...``), what ``log_model`` creates."""

from __future__ import annotations

from google.protobuf.message import Message
from mlflow.entities import LoggedModelParameter, LoggedModelStatus, LoggedModelTag
from mlflow.protos import service_pb2 as svc

from lakeserve.emulator.protojson import Route, required
from lakeserve.emulator.tracking.store import Tracking, model_proto

MODELS = "/logged-models"
ONE_MODEL = MODELS + "/{model_id}"


def logged_model_routes(tracking: Tracking) -> list[Route]:
    api = _LoggedModels(tracking)
    return [
        ("POST", MODELS, svc.CreateLoggedModel, api.create),
        ("POST", MODELS + "/search", svc.SearchLoggedModels, api.search),
        ("GET", ONE_MODEL, svc.GetLoggedModel, api.get),
        ("PATCH", ONE_MODEL, svc.FinalizeLoggedModel, api.finalize),
        ("DELETE", ONE_MODEL, svc.DeleteLoggedModel, api.delete),
        ("PATCH", ONE_MODEL + "/tags", svc.SetLoggedModelTags, api.set_tags),
        ("DELETE", ONE_MODEL + "/tags/{tag_key}", svc.DeleteLoggedModelTag, api.delete_tag),
        ("POST", ONE_MODEL + "/params", svc.LogLoggedModelParamsRequest, api.log_params),
    ]


class _LoggedModels:
    def __init__(self, tracking: Tracking):
        self._tracking = tracking
        self._store = tracking.store

    def create(self, request: svc.CreateLoggedModel) -> Message:
        required(request, "experiment_id")
        self._tracking.check_run_experiment(request.experiment_id)
        model = self._store.create_logged_model(
            experiment_id=request.experiment_id, name=request.name or None,
            source_run_id=request.source_run_id or None,
            tags=[LoggedModelTag(t.key, t.value) for t in request.tags] or None,
            params=[LoggedModelParameter.from_proto(p) for p in request.params] or None,
            model_type=request.model_type or None)
        return svc.CreateLoggedModel.Response(model=model_proto(model))

    def get(self, request: svc.GetLoggedModel) -> Message:
        return svc.GetLoggedModel.Response(model=model_proto(
            self._store.get_logged_model(request.model_id)))

    def finalize(self, request: svc.FinalizeLoggedModel) -> Message:
        model = self._store.finalize_logged_model(request.model_id,
                                                  LoggedModelStatus.from_int(request.status))
        return svc.FinalizeLoggedModel.Response(model=model_proto(model))

    def delete(self, request: svc.DeleteLoggedModel) -> Message:
        self._store.delete_logged_model(request.model_id)
        return svc.DeleteLoggedModel.Response()

    def search(self, request: svc.SearchLoggedModels) -> Message:
        found = self._store.search_logged_models(
            experiment_ids=list(request.experiment_ids), filter_string=request.filter or None,
            datasets=[{"dataset_name": d.dataset_name, "dataset_digest": d.dataset_digest or None}
                      for d in request.datasets] or None,
            max_results=request.max_results or None,
            order_by=[{"field_name": o.field_name, "ascending": o.ascending,
                       "dataset_name": o.dataset_name or None,
                       "dataset_digest": o.dataset_digest or None}
                      for o in request.order_by] or None,
            page_token=request.page_token or None)
        return svc.SearchLoggedModels.Response(models=[model_proto(m) for m in found],
                                               next_page_token=found.token or "")

    def set_tags(self, request: svc.SetLoggedModelTags) -> Message:
        self._store.set_logged_model_tags(request.model_id,
                                          [LoggedModelTag(t.key, t.value) for t in request.tags])
        return svc.SetLoggedModelTags.Response(model=model_proto(
            self._store.get_logged_model(request.model_id)))

    def delete_tag(self, request: svc.DeleteLoggedModelTag) -> Message:
        self._store.delete_logged_model_tag(request.model_id, request.tag_key)
        return svc.DeleteLoggedModelTag.Response()

    def log_params(self, request: svc.LogLoggedModelParamsRequest) -> Message:
        self._store.log_logged_model_params(
            request.model_id, [LoggedModelParameter.from_proto(p) for p in request.params])
        return svc.LogLoggedModelParamsRequest.Response()
