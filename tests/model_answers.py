"""Model answers written for the end-to-end tests, from the buggy programs alone.

QuixBugs `sqrt` compares `x` with `approx` where it must compare it with `approx *
approx`; the built-in engine finds no fix for it, so a verified fix of `sqrt` in a test
must have come from the model. No reference fix of the benchmark is read.
"""

SQRT_ANSWER = """Let me follow the trace step by step.

At the call, x=2 and epsilon=0.01. Step (3) sets approx=1.0. The loop condition compares
`abs(x - approx)`, that is |2 - 1.0| = 1.0, with epsilon. But approx estimates the square
root of x, so it should be compared with x through its square: |2 - 1.0**2|. With the
current condition the loop runs until approx itself is close to x, which never happens
for x=2, or stops at the wrong value.

The fix is to compare x with approx * approx.

```python
def sqrt(x, epsilon):
    approx = x / 2
    while abs(x - approx * approx) > epsilon:
        approx = 0.5 * (approx + x / approx)
    return approx
```
"""
