local function split(s, sep)
  local parts = {}
  local start = 1
  while true do
    local i = string.find(s, sep, start, true)
    if not i then parts[#parts + 1] = string.sub(s, start); return parts end
    parts[#parts + 1] = string.sub(s, start, i - 1)
    start = i + 1
  end
end
local total = 0
local line = ""
for i = 0, 299999 do
  local item = "item-" .. i .. ":" .. (i * 7)
  line = line .. item .. ","
  if #line > 200 then
    total = total + #split(line, ",")
    line = ""
  end
end
print(total)
