# Sourced by every tests/cli/*_test.sh: a work folder removed on exit, a failure count, and the
# checks the scripts share. Each check runs its command with stdout in $WORK/out.txt and stderr
# in $WORK/err.txt, so a script can look at either afterwards.
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# expect_ok NAME CMD...: the command succeeds.
expect_ok() {
  local name=$1
  shift
  "$@" >"$WORK/out.txt" 2>"$WORK/err.txt" || fail "$name exited non-zero: $(cat "$WORK/err.txt")"
}

# expect_error NAME NEEDLE CMD...: the command fails and stderr contains NEEDLE.
expect_error() {
  local name=$1 needle=$2
  shift 2
  if "$@" >"$WORK/out.txt" 2>"$WORK/err.txt"; then
    fail "$name: succeeded but should fail"
  elif ! grep -qF -- "$needle" "$WORK/err.txt"; then
    fail "$name: message lacks '$needle': $(cat "$WORK/err.txt")"
  fi
}

# expect_exit NAME CODE NEEDLE CMD...: the command exits with CODE and stderr contains NEEDLE.
expect_exit() {
  local name=$1 code=$2 needle=$3
  shift 3
  "$@" >"$WORK/out.txt" 2>"$WORK/err.txt"
  local rc=$?
  [ "$rc" -eq "$code" ] || fail "$name: exit code $rc, expected $code"
  grep -qF -- "$needle" "$WORK/err.txt" || fail "$name: message lacks '$needle': $(cat "$WORK/err.txt")"
}

# expect_contains FILE NEEDLE: FILE holds NEEDLE.
expect_contains() { grep -qF -- "$2" "$1" || fail "$1 lacks '$2': $(head -c 600 "$1")"; }

# expect_absent FILE: a failed command wrote nothing there.
expect_absent() { [ ! -e "$1" ] || fail "$1 was written although the command failed"; }

# finish NAME: the script's verdict and exit status.
finish() {
  if [ "$failures" -ne 0 ]; then
    echo "$1: $failures failure(s)"
    exit 1
  fi
  echo "$1: ok"
  exit 0
}
