#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image: it installs Python,
# the course harness from course/ (carried in this zip) and builds the offline fixtures.
# HFCOURSE_SKIP_INSTALL=1 skips the system and pip installs (for trying the bundle locally).
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
COURSE="$ROOT/source/course"
VENV="$ROOT/venv"

if [ -z "${HFCOURSE_SKIP_INSTALL:-}" ]; then
    echo "== system packages"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3 python3-venv python3-pip
    echo "== the course harness"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    # the CPU build of torch (the image has no GPU), then the course with its pinned libraries
    "$VENV/bin/python" -m pip install -q -c "$COURSE/constraints.txt" torch --index-url https://download.pytorch.org/whl/cpu
    "$VENV/bin/python" -m pip install -q -c "$COURSE/constraints.txt" "$COURSE"
fi

echo "== fixtures"
export HFCOURSE_ROOT="$COURSE" HFCOURSE_CACHE="${HFCOURSE_CACHE:-$ROOT/cache}"
"${HFCOURSE_PYTHON:-$VENV/bin/python}" -m hfcourse.cli fixtures build
echo "== ready"
