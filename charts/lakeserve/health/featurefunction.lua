-- Argo CD health check for lakeserve.dev/FeatureFunction (Lua 5.1, as Argo CD runs it).
-- Maps the operator's conditions to Argo CD health:
--   being deleted                                   Progressing
--   no status yet, or status.observedGeneration
--   behind metadata.generation                      Progressing  (waiting for the operator)
--   Stalled=True                                    Degraded     (reason: message)
--   Ready=True                                      Healthy
--   Reconciling=True, or no condition True          Progressing  (reason: message)
local hs = {}

local function condition(conditions, type_)
  for _, c in ipairs(conditions or {}) do
    if c.type == type_ then
      return c
    end
  end
  return nil
end

local function explain(c)
  local text = c.reason or ""
  if c.message ~= nil and c.message ~= "" then
    if text ~= "" then
      text = text .. ": "
    end
    text = text .. c.message
  end
  return text
end

-- Healthy message: the Ready condition's, plus the function's full name.
local function detail(message, status)
  if status.fullName ~= nil and status.fullName ~= "" then
    return message .. " (" .. status.fullName .. ")"
  end
  return message
end

local metadata = obj.metadata or {}
local status = obj.status
if metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "being deleted: the operator removes the Databricks object (or orphans it) first"
  return hs
end
if status == nil or status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "waiting for the operator to report status"
  return hs
end
if status.observedGeneration == nil or
    (metadata.generation ~= nil and status.observedGeneration < metadata.generation) then
  hs.status = "Progressing"
  hs.message = "waiting for the operator to observe generation " .. tostring(metadata.generation)
  if status.observedGeneration ~= nil then
    hs.message = hs.message .. " (status is of generation " .. tostring(status.observedGeneration) .. ")"
  end
  return hs
end
local stalled = condition(status.conditions, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = explain(stalled)
  return hs
end
local ready = condition(status.conditions, "Ready")
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = detail(ready.message or "", status)
  return hs
end
local reconciling = condition(status.conditions, "Reconciling")
hs.status = "Progressing"
if reconciling ~= nil and reconciling.status == "True" then
  hs.message = explain(reconciling)
else
  hs.message = "waiting for the operator to report Ready, Reconciling or Stalled"
end
return hs
