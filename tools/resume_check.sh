#!/usr/bin/env bash
# kill -9 a training run at a random epoch, --resume it, and compare its metrics with an uninterrupted run
# (same seed, same options). Usage: tools/resume_check.sh [EPOCH_TO_KILL_AT]
set -u
A="${A:-.venv/bin/attnpool}"
OPTS=(synthetic:peaks --data-option samples=600 --encoder linear --epochs 20 --patience 20 --seed 0 --no-progress --threads 1)
T=$(mktemp -d)
K=${1:-$((RANDOM % 15 + 2))}
$A train "${OPTS[@]}" --out "$T/full" > /dev/null 2>&1
$A train "${OPTS[@]}" --out "$T/killed" > /dev/null 2>&1 & P=$!
until [ -f "$T/killed/logs/metrics.csv" ] && [ "$(cut -d, -f1 "$T/killed/logs/metrics.csv" | tail -1)" = "$K" ]; do sleep 0.05; done
kill -9 $P; wait $P 2>/dev/null
echo "killed at epoch $K: $(ls "$T/killed")"
$A evaluate "$T/killed" 2>&1 | head -1
$A train --out "$T/killed" --resume > /dev/null 2>&1; echo "resume rc=$?"
echo "uninterrupted:"; $A evaluate "$T/full"
echo "killed at epoch $K, resumed:"; $A evaluate "$T/killed"
python3 - "$T" <<'PY'
import json, sys
a, b = (json.load(open(f"{sys.argv[1]}/{n}/metrics.json")) for n in ("full", "killed"))
for split in ("val", "test"):
    print(split, {k: round(b[split][k] - a[split][k], 6) for k in a[split] if isinstance(a[split][k], float)})
print("epochs", a["epochs"], b["epochs"])
PY
