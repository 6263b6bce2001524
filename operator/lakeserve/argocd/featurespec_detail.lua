-- Healthy message: the Ready condition's, plus the feature spec's full name.
local function detail(message, status)
  if status.fullName ~= nil and status.fullName ~= "" then
    return message .. " (" .. status.fullName .. ")"
  end
  return message
end
