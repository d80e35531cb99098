local Square, Rect, Tri = {}, {}, {}
Square.__index, Rect.__index, Tri.__index = Square, Rect, Tri
function Square:area() return self.side * self.side end
function Rect:area() return self.w * self.h end
function Tri:area() return math.floor(self.b * self.h / 2) end
local shapes = {}
for i = 0, 299 do
  local s
  if i % 3 == 0 then s = setmetatable({ side = i % 7 }, Square)
  elseif i % 3 == 1 then s = setmetatable({ w = i % 5, h = i % 11 }, Rect)
  else s = setmetatable({ b = i % 13, h = i % 4 }, Tri) end
  shapes[#shapes + 1] = s
end
local total = 0
for rep = 1, 100000 do
  for i = 1, #shapes do total = total + shapes[i]:area() end
end
print(string.format("%d", total))
