-- k-nucleotide-style counting, the same workload as k_nucleotide.kiln.
local n = tonumber(arg and arg[1]) or 250000
local last = 42
local cumulative = {0.3029549426680, 0.5009432431601, 0.6984905497992, 1.0}
local letters = {"A", "C", "G", "T"}
local parts = {}
for i = 1, n do
  last = (last * 3877 + 29573) % 139968
  local r = last / 139968.0
  local k = 1
  while k < 4 and r >= cumulative[k] do k = k + 1 end
  parts[i] = letters[k]
end
local seq = table.concat(parts)
local function count_kmers(k)
  local counts, order = {}, {}
  for i = 1, #seq - k + 1 do
    local key = seq:sub(i, i + k - 1)
    local c = counts[key]
    if c then counts[key] = c + 1 else counts[key] = 1; order[#order + 1] = key end
  end
  return counts, order
end
local function print_frequencies(k)
  local counts, keys = count_kmers(k)
  table.sort(keys, function(a, b) return counts[a] > counts[b] or (counts[a] == counts[b] and a < b) end)
  local total = #seq - k + 1
  for _, key in ipairs(keys) do print(string.format("%s %.3f", key, 100.0 * counts[key] / total)) end
  print()
end
print_frequencies(1)
print_frequencies(2)
for _, pattern in ipairs({"GGT", "GGTA", "GGTATT", "GGTATTTTAATT", "GGTATTTTAATTTATAGT"}) do
  local counts = count_kmers(#pattern)
  print(string.format("%d\t%s", counts[pattern] or 0, pattern))
end
