"""Condition and event reasons, as constants so tests, docs and health checks agree on them."""

# Ready=True
READY = "Ready"

# Reconciling=True (converging; kstatus: InProgress, Argo CD: Progressing)
CREATING = "Creating"
UPDATING = "Updating"
RECREATING = "Recreating"
DELETING = "Deleting"
WAITING_FOR_DEPENDENCIES = "WaitingForDependencies"
WAITING_FOR_DATABRICKS = "WaitingForDatabricks"
RATE_LIMITED = "RateLimited"
THROTTLED = "Throttled"
TRANSIENT_ERROR = "TransientError"

# Stalled=True (needs a spec change or outside help; kstatus: Failed, Argo CD: Degraded)
INVALID_SPEC = "InvalidSpec"
REJECTED = "Rejected"
UPDATE_FAILED = "UpdateFailed"
NOT_FOUND = "NotFound"
PERMISSION_DENIED = "PermissionDenied"
IMMUTABLE_FIELD_CHANGED = "ImmutableFieldChanged"
OWNED_BY_ANOTHER_OBJECT = "OwnedByAnotherObject"
CREDENTIALS_NOT_FOUND = "CredentialsNotFound"
CREDENTIALS_INVALID = "CredentialsInvalid"

# Events only
CREATED = "Created"
UPDATED = "Updated"
DELETED = "Deleted"
ORPHANED = "Orphaned"
ADOPTED = "Adopted"
DRIFT_CORRECTED = "DriftCorrected"
RECREATED_MISSING = "RecreatedMissing"
ALIAS_MOVED = "AliasMoved"
