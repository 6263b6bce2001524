-- Healthy message: the Ready condition's, plus the sync state and the rows synced.
local function detail(message, status)
  local facts = {}
  if status.detailedState ~= nil and status.detailedState ~= "" then
    table.insert(facts, status.detailedState)
  end
  if status.syncedRowCount ~= nil then
    table.insert(facts, tostring(status.syncedRowCount) .. " rows synced")
  end
  if #facts > 0 then
    return message .. " (" .. table.concat(facts, ", ") .. ")"
  end
  return message
end
