import sys
sys.setrecursionlimit(10000)
def make(d):
    return (None, None) if d == 0 else (make(d - 1), make(d - 1))
def check(t):
    return 1 + check(t[0]) + check(t[1]) if t[0] is not None else 1
max_depth = 16
total = check(make(max_depth + 1))
long_lived = make(max_depth)
for d in range(4, max_depth + 1, 2):
    for i in range(1 << (max_depth - d + 4)):
        total += check(make(d))
print(total + check(long_lived))
