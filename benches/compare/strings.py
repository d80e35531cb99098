total, line = 0, ""
for i in range(2000000):
    line = line + f"item-{i}:{i * 7},"
    if len(line) > 200:
        total += len(line.split(",")) + len(line)
        line = ""
print(total)
