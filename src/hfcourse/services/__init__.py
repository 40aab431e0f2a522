"""Local stand-ins for the remote services the course talks to (remote files, the GitHub
API, the Hub). Each module has ``start(state_dir: Path, **options) -> str``: it serves on
127.0.0.1 from a daemon thread of the calling process and returns the base URL, so it
runs inside a sandboxed worker's own network namespace."""
