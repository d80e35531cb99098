local acc = 0
local i = 0
while i < 60000000 do
  acc = (acc + i * i) % 1000003
  i = i + 1
end
print(acc)
