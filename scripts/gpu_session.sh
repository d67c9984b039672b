#!/usr/bin/env bash
# One call of a GPU session's few device minutes: every GPU check in order, each under its own timeout, each
# log written under $OUT (the device tool brings that folder back) as it goes.
#
#   bash scripts/gpu_session.sh            # on the GPU machine, from the repository's root
#
# 1. scripts/gpu_check.py: the gpu-marked tests (tests/test_gpu.py: the backend suite, the program fuzzer,
#    the rule table on CuPy, the recorded regressions) and the autoencoder's timings;
# 2. scripts/backend_sweep.py on each GPU library: every rule-table case, δ's failures apart from the
#    function's own;
# 3. scripts/gpu_survey.py: random programs on CuPy and CUDA tensors, every failure recorded for replay.
# A machine without array-api-compat gets it from wheels carried in .whl/ (see the device tool's notes).
# Budget: about 6 minutes of checks, each limit below adjustable (CHECK_S, SWEEP_S, SURVEY_S, SURVEY_LIB_S).
set -u
cd "$(dirname "$0")/.." || exit 1
if ! python3 -c "import array_api_compat" 2>/dev/null && ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONUNBUFFERED=1 JAX_ENABLE_X64=1 SCIPY_ARRAY_API=1
OUT=${OUT:-/tmp/gpu_session}; mkdir -p "$OUT"
start=$(date +%s); stamp() { echo "== [$(( $(date +%s) - start )) s] $*"; }

stamp "gpu_check"
timeout "${CHECK_S:-240}" python3 scripts/gpu_check.py --json "$OUT/check.json" > "$OUT/check.log" 2>&1
echo "exit status $?"; grep -E "^  |passed|failed|error" "$OUT/check.log" | tail -25

for lib in cupy torch-cuda; do  # (jax-gpu compiles every case: minutes, left out)
  stamp "sweep $lib"
  timeout "${SWEEP_S:-90}" python3 scripts/backend_sweep.py "$lib" > "$OUT/sweep-$lib.txt" 2>&1
  echo "exit status $?"; grep "^==" "$OUT/sweep-$lib.txt"
done

stamp "survey"
timeout "${SURVEY_S:-150}" python3 scripts/gpu_survey.py run "$OUT/survey.jsonl" --library cupy torch-cuda \
  --seconds "${SURVEY_LIB_S:-60}" --seed "${SEED:-$(date +%Y%m%d)}" > "$OUT/survey.log" 2>&1
echo "exit status $?"; tail -5 "$OUT/survey.log"
stamp "done"
