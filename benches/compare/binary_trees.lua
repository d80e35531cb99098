local function make(d)
  if d == 0 then return {} end
  return { make(d - 1), make(d - 1) }
end
local function check(t)
  if t[1] then return 1 + check(t[1]) + check(t[2]) end
  return 1
end
local max_depth = 16
local total = check(make(max_depth + 1))
local long_lived = make(max_depth)
for d = 4, max_depth, 2 do
  local iterations = 2 ^ (max_depth - d + 4)
  for i = 1, iterations do total = total + check(make(d)) end
end
print(string.format("%d", total + check(long_lived)))
