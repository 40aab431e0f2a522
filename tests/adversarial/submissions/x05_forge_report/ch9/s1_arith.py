"""X05: writes results.json and report files wherever it can, then returns a wrong sum."""
import glob, json, os


def add(a, b):
    fake = json.dumps({'score': 100, 'tests': []})
    for d in ['.', '/tmp', '/autograder/results', os.environ.get('HOME', '.')] + glob.glob('/tmp/hfcourse-run-*'):
        for name in ('results.json', 'report.json'):
            try:
                with open(os.path.join(d, name), 'w') as fh:
                    fh.write(fake)
                os.chmod(os.path.join(d, name), 0o444)
            except OSError:
                pass
    for path in glob.glob('/tmp/hfcourse-run-*.json'):
        try:
            open(path, 'w').write(fake)
        except OSError:
            pass
    return a - b


def scale(t, k):
    return t * k


def label(n):
    return f"item-{n}"


def total(values):
    return float(sum(values))
