"""Everything about talking to Databricks that is not specific to one kind: building workspace
clients with bounded timeouts, classifying SDK errors, and the client-side write limiter."""
