"""A small module with one bug, for trying tracefix on a failing test."""


def moving_average(values, window):
    """Return the mean of every run of `window` consecutive values."""
    if window <= 0:
        raise ValueError(f"window must be positive, got {window}")
    averages = []
    for start in range(len(values) - window):
        chunk = values[start:start + window]
        averages.append(sum(chunk) / window)
    return averages
