local total, line = 0, ""
for i = 0, 2000000 - 1 do
  line = line .. "item-" .. string.format("%d", i) .. ":" .. string.format("%d", i * 7) .. ","
  if #line > 200 then
    local parts = 1
    for _ in line:gmatch(",") do parts = parts + 1 end
    total = total + parts + #line
    line = ""
  end
end
print(string.format("%d", total))
