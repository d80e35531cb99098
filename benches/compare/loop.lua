local acc = 0
for i = 0, 300000000 - 1 do acc = (acc * 31 + i) % 1000003 end
print(string.format("%d", acc))
