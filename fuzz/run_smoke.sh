#!/usr/bin/env bash
# Builds every fuzz target in BUILD_DIR and runs each one for a bounded time, starting
# from a copy of its seeds (fuzz/corpus/<target>/ plus fuzz/regressions/<target>/) in
# a temporary directory, so the checked-in corpus is never modified. Prints one line
# per target and exits non-zero if any target crashed, leaked, hung or ran out of
# memory; the input that did it is kept under BUILD_DIR/fuzz-artifacts/<target>/
# (see fuzz/README.md for reproducing it).
#
# Usage: fuzz/run_smoke.sh [-t SECONDS] [-j JOBS] BUILD_DIR [TARGET...]
#   -t SECONDS  time per target (default 30)
#   -j JOBS     targets run at once (default 1; each uses one core)
#   TARGET      e.g. resp_parser (default: every *_fuzzer in BUILD_DIR/bin)
# A BUILD_DIR without a CMakeCache.txt is configured first, with clang, ASan+UBSan and
# the fuzzers on (the configuration fuzz/CMakeLists.txt documents).
set -euo pipefail

seconds=30
jobs=1
while getopts "t:j:" opt; do
  case "${opt}" in
    t) seconds=${OPTARG} ;;
    j) jobs=${OPTARG} ;;
    *) echo "usage: $0 [-t SECONDS] [-j JOBS] BUILD_DIR [TARGET...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if (($# < 1)); then
  echo "usage: $0 [-t SECONDS] [-j JOBS] BUILD_DIR [TARGET...]" >&2
  exit 2
fi
build_dir=$(realpath -m "$1")
shift
fuzz_dir=$(cd "$(dirname "$0")" && pwd)
source_dir=$(dirname "${fuzz_dir}")

if [[ ! -f "${build_dir}/CMakeCache.txt" ]]; then
  echo "== configuring ${build_dir} (clang, ASan+UBSan, fuzzers)"
  cmake -S "${source_dir}" -B "${build_dir}" -DCMAKE_CXX_COMPILER=clang++ \
    -DMEMENTO_BUILD_FUZZERS=ON -DMEMENTO_SANITIZE=address,undefined \
    -DMEMENTO_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
echo "== building the fuzz targets in ${build_dir}"
cmake --build "${build_dir}" --target memento_fuzzers -j"${jobs}"

targets=("$@")
if ((${#targets[@]} == 0)); then
  for bin in "${build_dir}"/bin/*_fuzzer; do
    name=$(basename "${bin}")
    targets+=("${name%_fuzzer}")
  done
fi

# The dictionary each target uses, if any.
dict_for() {
  case "$1" in
    text_parser) echo "${fuzz_dir}/dict/text.dict" ;;
    resp_parser) echo "${fuzz_dir}/dict/resp.dict" ;;
    commands) echo "${fuzz_dir}/dict/commands.dict" ;;
    config) echo "${fuzz_dir}/dict/toml.dict" ;;
    wal_reader | wal_recovery) echo "${fuzz_dir}/dict/wal.dict" ;;
  esac
}

work=$(mktemp -d "${TMPDIR:-/tmp}/memento-fuzz-smoke.XXXXXX")
trap 'rm -rf "${work}"' EXIT
artifacts="${build_dir}/fuzz-artifacts"

# Runs one target; writes its summary line to ${work}/<target>.result.
run_one() {
  local t=$1
  local bin="${build_dir}/bin/${t}_fuzzer"
  local corpus="${work}/${t}/corpus" log="${work}/${t}/log"
  mkdir -p "${corpus}" "${artifacts}/${t}"
  for src in "${fuzz_dir}/corpus/${t}" "${fuzz_dir}/regressions/${t}"; do
    [[ -d "${src}" ]] || continue
    # Inputs of bugs still open (UNFIXED-*) would stop the run at once: left out.
    find "${src}" -maxdepth 1 -type f ! -name 'UNFIXED-*' -exec cp {} "${corpus}/" \;
  done
  local args=(-max_total_time="${seconds}" -timeout=25 -rss_limit_mb=2048
              -print_final_stats=1 -artifact_prefix="${artifacts}/${t}/")
  local dict
  dict=$(dict_for "${t}")
  [[ -n "${dict}" ]] && args+=(-dict="${dict}")
  local status=0
  "${bin}" "${args[@]}" "${corpus}" >"${log}" 2>&1 || status=$?
  local execs cov
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "${log}" | grep -o '[0-9]*$' || true)
  cov=$(grep -E '^#[0-9]+' "${log}" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' || true)
  if ((status == 0)); then
    printf 'ok    %-16s %4ss  execs=%-9s %s\n' "${t}" "${seconds}" "${execs:-?}" "${cov}" \
      >"${work}/${t}.result"
  else
    local crash
    crash=$(grep -oE 'Test unit written to .*' "${log}" | tail -1 | sed 's/Test unit written to //')
    {
      printf 'FAIL  %-16s exit %s  input: %s\n' "${t}" "${status}" "${crash:-none saved}"
      grep -E 'ERROR: |fuzz check failed|SUMMARY' "${log}" | head -5 | sed 's/^/        /'
      cp "${log}" "${artifacts}/${t}/last-run.log"
      echo "        full log: ${artifacts}/${t}/last-run.log"
    } >"${work}/${t}.result"
  fi
}

echo "== running ${#targets[@]} targets for ${seconds}s each, ${jobs} at a time"
pids=()
for t in "${targets[@]}"; do
  if [[ ! -x "${build_dir}/bin/${t}_fuzzer" ]]; then
    echo "FAIL  ${t}: no ${build_dir}/bin/${t}_fuzzer" >"${work}/${t}.result"
    continue
  fi
  # At most ${jobs} at once: wait for one to end before starting another.
  while (($(jobs -rp | wc -l) >= jobs)); do
    wait -n || true
  done
  run_one "${t}" &
  pids+=($!)
done
for pid in "${pids[@]}"; do
  wait "${pid}" || true
done

failed=0
for t in "${targets[@]}"; do
  if [[ ! -f "${work}/${t}.result" ]]; then
    echo "FAIL  ${t}: the run ended without a result (killed?)" >"${work}/${t}.result"
  fi
  cat "${work}/${t}.result"
  if grep -q '^FAIL' "${work}/${t}.result"; then failed=$((failed + 1)); fi
done
if ((failed > 0)); then
  echo "== fuzz smoke: ${failed} of ${#targets[@]} targets FAILED"
  exit 1
fi
echo "== fuzz smoke: all ${#targets[@]} targets ok"
