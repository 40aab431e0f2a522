"""X26: a syntax error."""

def add(a, b)
    return a + b
