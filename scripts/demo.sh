#!/usr/bin/env bash
# `make demo`: the main job end to end on the bundled calls.
#   1. validate and list the calls
#   2. fetch missing prices: the real HKEX and Hang Seng CSVs in ../shared/data/prices when that
#      folder is there, else Yahoo (DEMO_SOURCE=yahoo or csv:DIR chooses)
#      -- with no network and an empty store, the commands below fall back to a
#         seeded SIMULATED sample and say so in their first line
#   3. score every call against the Hang Seng Index
#   4. backtest "follow Huaan's calls" against the index
#   5. sweep it: acting 0 to 20 sessions late, with and without costs (information decay)
#   6. write the scorecard preview (HTML, text, .eml) without sending it
# The demo keeps its data in .demo-home/ (override with TRACKER_HOME) and writes to demo-out/.
set -uo pipefail
cd "$(dirname "$0")/.."

T=".venv/bin/tracker"
export TRACKER_HOME="${TRACKER_HOME:-$PWD/.demo-home}"
SHARED_PRICES="$(cd .. && pwd)/shared/data/prices"
if [ -z "${DEMO_SOURCE:-}" ] && [ -d "$SHARED_PRICES" ]; then
  SOURCE="csv:$SHARED_PRICES"
else
  SOURCE="${DEMO_SOURCE:-yahoo}"
fi
OUT="${DEMO_OUT:-demo-out}"

step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }
run() {
  "$@"
  local rc=$?
  # exit code 2 = partial failure (e.g. some prices could not be fetched): reported, go on
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ]; then
    printf 'demo: step failed (exit %s): %s\n' "$rc" "$*" >&2
    exit "$rc"
  fi
}

step "1/7 validate the calls";           run "$T" recs validate
step "2/7 list the calls";               run "$T" recs list
step "3/7 fetch or load prices";         run "$T" prices update --recs --source "$SOURCE"
step "4/7 score the calls";              run "$T" score --source "$SOURCE"
step "5/7 backtest: follow Huaan's calls"; run "$T" backtest run backtests/huaan-hk-internet-2025.yaml --source "$SOURCE"
step "6/7 sweep: acting late, with and without costs"
run "$T" backtest sweep backtests/huaan-hk-internet-2025.yaml --source "$SOURCE" \
  --vary entry_delay_sessions=0,1,2,5,10,20 --vary costs=on,off
step "7/7 scorecard preview";            run "$T" scorecard --out "$OUT" --source "$SOURCE"
printf '\nscorecard preview: %s/scorecard.html, %s/scorecard.txt, %s/scorecard.eml\n' "$OUT" "$OUT" "$OUT" >&2
