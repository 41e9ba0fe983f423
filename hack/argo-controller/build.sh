#!/bin/sh
# Build (or find in the cache) Argo Rollouts' own controller, the oracle of the differential
# tests and of bench/vs_argo.py, and print the binary's path. The pin and the build live in
# rollouts/devcluster/oracle.py; this is the command-line entry for people.
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
python=${PYTHON:-$repo/.venv/bin/python}
exec "$python" -m rollouts.devcluster.oracle
