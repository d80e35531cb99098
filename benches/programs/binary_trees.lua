local function make(d)
  if d == 0 then return {} else return { make(d - 1), make(d - 1) } end
end
local function check(t)
  if t[1] == nil then return 1 else return 1 + check(t[1]) + check(t[2]) end
end
local max_depth = 16
local stretch = max_depth + 1
print(string.format("stretch tree of depth %d\t check: %d", stretch, check(make(stretch))))
local long_lived = make(max_depth)
local d = 4
while d <= max_depth do
  local iterations = 1 << (max_depth - d + 4)
  local total = 0
  for i = 1, iterations do total = total + check(make(d)) end
  print(string.format("%d\t trees of depth %d\t check: %d", iterations, d, total))
  d = d + 2
end
print(string.format("long lived tree of depth %d\t check: %d", max_depth, check(long_lived)))
