"""Running untrusted student code in worker processes, with data-only results."""
