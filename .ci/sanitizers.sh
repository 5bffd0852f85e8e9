#!/usr/bin/env bash
# The whole test suite on two special builds of the extension (and of the C++ tests):
#
#   asan   AddressSanitizer + UndefinedBehaviorSanitizer, Debug, -O1. The interpreter itself is
#          not instrumented, so libasan (and libstdc++, which must come after it) is preloaded,
#          leak detection is off (the interpreter's own allocations would all be reported), and
#          any report fails the run (halt_on_error; UBSan aborts with a stack trace).
#   debug  CMAKE_BUILD_TYPE=Debug: Eigen's assertions on (eigen_setup.hpp turns them into
#          exceptions), no optimisation.
#
# Usage: .ci/sanitizers.sh [asan|debug|all] [pytest arguments...]
# Each build has its own virtual environment (.venv-<kind>) and build folders (build/<kind>,
# build/tests-cpp-<kind>), so rebuilds are incremental and the main build is untouched.
# Measured on the project's 2-core machine: see docs/robustness.md.
set -euo pipefail
cd "$(dirname "$0")/.."

kinds=${1:-all}
shift || true
[[ $kinds == all ]] && kinds="asan debug"

for kind in $kinds; do
  start=$SECONDS
  venv=".venv-$kind"
  case $kind in
    asan)
      flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -O1 -g"
      ;;
    debug)
      flags="-O0 -g"
      ;;
    *)
      echo "unknown build '$kind' (asan, debug or all)" >&2
      exit 2
      ;;
  esac

  # Not --system-site-packages: an editable install of the project there would be imported
  # instead of this build.
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet scikit-build-core "pybind11>=3" "cmeel-eigen>=3.4,<3.5" \
    numpy pytest hypothesis cmake ninja
  # One copy of the module, for this machine: the copies per instruction set are the same
  # source, and three instrumented builds would triple the longest step.
  echo "== $kind: building the extension"
  "$venv/bin/python" -m pip install --quiet --no-build-isolation --no-deps \
    -Cbuild-dir="build/$kind" -Ccmake.build-type=Debug -Ccmake.define.EIGEN_AUTODIFF_NATIVE=ON \
    -Ccmake.define.CMAKE_CXX_FLAGS="$flags" \
    -Ccmake.define.CMAKE_EXE_LINKER_FLAGS="$flags" \
    -Ccmake.define.CMAKE_SHARED_LINKER_FLAGS="$flags" .
  # The C++ examples and tests, built here (tests/test_cpp.py then finds them up to date) rather
  # than from pytest, whose compilers would otherwise run with libasan preloaded.
  echo "== $kind: building the C++ examples and tests"
  cpp_build="$PWD/build/tests-cpp-$kind"
  "$venv/bin/cmake" -S . -B "$cpp_build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" \
    -DEIGEN_AUTODIFF_BUILD_EXAMPLES=ON -DEIGEN_AUTODIFF_BUILD_TESTS=ON \
    -DPython_EXECUTABLE="$PWD/$venv/bin/python" >/dev/null
  "$venv/bin/cmake" --build "$cpp_build" --parallel >/dev/null
  built=$SECONDS

  env_vars=("EIGEN_AUTODIFF_TEST_BUILD_DIR=$cpp_build")
  if [[ $kind == asan ]]; then
    libasan=$(g++ -print-file-name=libasan.so)
    libstdcxx=$(g++ -print-file-name=libstdc++.so)
    env_vars+=(
      "LD_PRELOAD=$(realpath "$libasan") $(realpath "$libstdcxx")"
      "ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=0"
      "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1"
    )
  fi
  echo "== $kind: running the test suite"
  log="build/$kind-pytest.log"
  # --capture=sys: a sanitizer writes its report to file descriptor 2 and ends the process, so
  # output captured at the descriptor level would be lost with it.
  set +e
  env "${env_vars[@]}" "$venv/bin/python" -m pytest -p no:cacheprovider --capture=sys "$@" 2>&1 |
    tee "$log"
  status=${PIPESTATUS[0]}
  set -e
  # A report that did not end the process (in a child that exited 0, say) still fails the run.
  if grep -Eq 'ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer' "$log"; then
    echo "== $kind: sanitizer reports found in $log" >&2
    status=1
  fi
  echo "== $kind: build $((built - start)) s, tests $((SECONDS - built)) s, exit status $status"
  [[ $status == 0 ]] || exit "$status"
done
