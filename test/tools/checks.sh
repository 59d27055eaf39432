# Sourced by the shell tests: check NAME RESULT counts RESULT "ok" as passed,
# anything else as failed (it says why); checks_summary prints the line
# test/run.sh reads and fails if any check did.
passed=0
failed=0
check() {
  if [ "$2" = ok ]; then passed=$((passed + 1)); echo "ok: $1"
  else failed=$((failed + 1)); echo "FAILED: $1 ($2)"; fi
}
checks_summary() {
  echo "$passed passed, $failed failed"
  [ "$failed" = 0 ]
}
