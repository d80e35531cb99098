local n, count = 1000000, 0
local flags = {}
for rep = 1, 60 do
  for i = 0, n do flags[i] = true end
  count = 0
  for i = 2, n do
    if flags[i] then
      count = count + 1
      for j = i * i, n, i do flags[j] = false end
    end
  end
end
print(string.format("%d", count))
