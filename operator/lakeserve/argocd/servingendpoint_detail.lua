-- Healthy message: the Ready condition's, plus the invocation URL.
local function detail(message, status)
  if status.url ~= nil and status.url ~= "" then
    return message .. " (" .. status.url .. ")"
  end
  return message
end
