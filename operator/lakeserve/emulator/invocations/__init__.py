"""The data plane of Model Serving: ``POST /serving-endpoints/{name}/invocations`` runs the MLflow
model of one served entity, chosen per request by the endpoint's traffic split.

``models`` loads registry versions, ``deployment`` loads a submitted config's models while the
endpoint is IN_PROGRESS, ``payload`` parses request bodies, ``routing`` splits traffic,
``jsonable`` turns predictions into JSON, ``service`` puts them together."""
