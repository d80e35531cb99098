class Square:
    __slots__ = ("side",)
    def __init__(self, side): self.side = side
    def area(self): return self.side * self.side
class Rect:
    __slots__ = ("w", "h")
    def __init__(self, w, h): self.w, self.h = w, h
    def area(self): return self.w * self.h
class Tri:
    __slots__ = ("b", "h")
    def __init__(self, b, h): self.b, self.h = b, h
    def area(self): return self.b * self.h // 2
shapes = [Square(i % 7) if i % 3 == 0 else Rect(i % 5, i % 11) if i % 3 == 1 else Tri(i % 13, i % 4) for i in range(300)]
total = 0
for rep in range(100000):
    for s in shapes:
        total += s.area()
print(total)
