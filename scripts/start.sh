#!/usr/bin/env bash
# Installs what is missing, builds memento (Release) in ./build and runs it in the
# foreground on 127.0.0.1:6737 with data under ./data. Extra arguments go to memento
# (see `build/bin/memento --help`). Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DMEMENTO_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target memento
exec ./build/bin/memento "$@"
