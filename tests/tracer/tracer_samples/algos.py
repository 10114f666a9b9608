"""Small programs whose traces the tests check by hand. Line numbers matter: the
tests name them, so edit only at the end of the file."""


def gcd(a, b):
    if b == 0:
        return a
    else:
        return gcd(b, a % b)


def bitcount(n):
    count = 0
    while n:
        n &= n - 1
        count += 1
    return count


def squares(n):
    for i in range(n):
        yield i * i


def collect(n):
    out = []
    for x in squares(n):
        out.append(x)
    return out


def loop(n):
    total = 0
    for i in range(n):
        total += i
    return total


def fails(d):
    value = d["missing"]
    return value


def catches():
    try:
        1 / 0
    except ZeroDivisionError as error:
        kind = type(error).__name__
    return kind


def mutate(items, table):
    items.append(4)
    table["k"] = 1
    items[0] = 9
    return len(items)


def factorial(n):
    if n <= 1:
        return 1
    return n * factorial(n - 1)


def deep(n):
    return deep(n + 1)


def nan_loop():
    x = float("nan")
    y = x
    return y


def strings(n):
    for i in range(n):
        s = "x" * 100 + str(i)
    return len(s)


def replaces_tracer():
    import sys
    sys.settrace(None)
    return 1


def with_hostile():
    from tracer_samples import hostile
    return hostile.use_hostile()
