-- Healthy message: the Ready condition's, plus the workspace id.
local function detail(message, status)
  if status.workspaceId ~= nil and status.workspaceId ~= "" then
    return message .. " (workspace " .. status.workspaceId .. ")"
  end
  return message
end
