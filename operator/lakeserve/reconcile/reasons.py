"""Condition and event reasons, as constants so tests, docs and health checks agree on them."""

# Stalled=True as well; set where the Databricks client is built.
from lakeserve.databricks.clients import UNREACHABLE  # noqa: F401
from lakeserve.databricks.workspace import CREDENTIALS_INVALID, CREDENTIALS_NOT_FOUND  # noqa: F401

# Ready=True
READY = "Ready"
OBSERVED = "Observed"  # managementPolicy: ObserveOnly, and the Databricks object exists

# Reconciling=True (converging; kstatus: InProgress, Argo CD: Progressing)
CREATING = "Creating"
UPDATING = "Updating"
RECREATING = "Recreating"
DELETING = "Deleting"
WAITING_FOR_DEPENDENCIES = "WaitingForDependencies"
WAITING_FOR_DATABRICKS = "WaitingForDatabricks"
WAITING_FOR_WORKSPACE = "WaitingForWorkspace"  # its Workspace/ClusterWorkspace is not Ready
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
ALREADY_EXISTS = "AlreadyExists"
OWNED_BY_ANOTHER_OBJECT = "OwnedByAnotherObject"
WORKSPACE_NOT_ALLOWED = "WorkspaceNotAllowed"  # spec.workspaceRef names what it may not use
WORKSPACE_MISMATCH = "WorkspaceMismatch"  # a dependsOn object lives in another workspace

# None of the three True (lakeserve.dev/paused; kstatus: InProgress, Argo CD: Suspended)
PAUSED = "Paused"

# Events only
CREATED = "Created"
UPDATED = "Updated"
DELETED = "Deleted"
ORPHANED = "Orphaned"
ADOPTED = "Adopted"
NOT_OWNED = "NotOwned"
DRIFT_CORRECTED = "DriftCorrected"
RECREATED_MISSING = "RecreatedMissing"
ALIAS_MOVED = "AliasMoved"
IN_USE = "InUse"  # a Workspace's deletion waits for the objects still using it
