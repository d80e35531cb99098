acc = 0
for i in range(300000000):
    acc = (acc * 31 + i) % 1000003
print(acc)
