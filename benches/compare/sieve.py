n = 1000000
flags = [False] * (n + 1)
count = 0
for rep in range(60):
    for i in range(n + 1):
        flags[i] = True
    count = 0
    for i in range(2, n + 1):
        if flags[i]:
            count += 1
            for j in range(i * i, n + 1, i):
                flags[j] = False
print(count)
