"""Model Serving: ``/api/2.0/serving-endpoints`` with the endpoint state machine."""
