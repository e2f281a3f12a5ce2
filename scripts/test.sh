#!/usr/bin/env bash
# The whole test suite, from a fresh clone: install what the tests need, type-check, run vitest,
# and print the plain closing line `N passed, N failed` from vitest's JSON result.
set -uo pipefail
cd "$(dirname "$0")/.."
export NO_COLOR=1

bash scripts/setup.sh --all || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

echo "[test] tsc --noEmit"
if ! npx tsc --noEmit; then
  echo "type check failed"; echo "0 passed, 1 failed"; exit 1
fi

result=.vitest-result.json
rm -f "$result"
echo "[test] vitest"
npx vitest run --reporter=default --reporter=json --outputFile="$result" "$@"
status=$?
if [ ! -f "$result" ]; then
  echo "vitest wrote no result"; echo "0 passed, 1 failed"; exit 1
fi
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const failedSuites = r.testResults.filter((f) => f.status === "failed" && f.assertionResults.length === 0).length;
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests + failedSuites} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$result"
exit $status
