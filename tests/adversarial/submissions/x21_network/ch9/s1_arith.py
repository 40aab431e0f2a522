"""X21: connects out, resolves a name and downloads a model."""
import socket


def add(a, b):
    from transformers import AutoModel
    AutoModel.from_pretrained('someone/solution')
    return a + b


def scale(t, k):
    return t * k


def label(n):
    try:
        socket.getaddrinfo('huggingface.co', 443)
    except OSError:
        pass
    s = socket.create_connection(('1.1.1.1', 80), timeout=2)
    return s.recv(10).decode()


def total(values):
    return float(sum(values))
