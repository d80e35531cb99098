-- Spectral norm, the same algorithm as spectral_norm.kiln.
local n = tonumber(arg and arg[1]) or 1000
local function a(i, j) return 1.0 / ((i + j) * (i + j + 1) // 2 + i + 1) end
local function mul_av(v, av)
  for i = 0, n - 1 do
    local sum = 0.0
    for j = 0, n - 1 do sum = sum + a(i, j) * v[j] end
    av[i] = sum
  end
end
local function mul_atv(v, atv)
  for i = 0, n - 1 do
    local sum = 0.0
    for j = 0, n - 1 do sum = sum + a(j, i) * v[j] end
    atv[i] = sum
  end
end
local function mul_atav(v, out, tmp) mul_av(v, tmp); mul_atv(tmp, out) end
local u, v, tmp = {}, {}, {}
for i = 0, n - 1 do u[i] = 1.0; v[i] = 0.0; tmp[i] = 0.0 end
for _ = 1, 10 do mul_atav(u, v, tmp); mul_atav(v, u, tmp) end
local vbv, vv = 0.0, 0.0
for i = 0, n - 1 do vbv = vbv + u[i] * v[i]; vv = vv + v[i] * v[i] end
print(string.format("%.9f", math.sqrt(vbv / vv)))
