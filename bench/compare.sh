#!/usr/bin/env bash
# Side-by-side benchmark: `vane bench` against an eager PyTorch model of the same synthetic checkpoint.
#
#   bench/compare.sh SHAPE [THREADS=2] [RUNS=3]
#   bench/compare.sh qwen2.5-0.5b 2 3
#
# SHAPE: qwen2.5-0.5b, llama-3.2-1b, tinyllama-1.1b (or tiny). Both sides measure every timed figure as the
# median of RUNS runs after a warm-up, on THREADS threads. PyTorch is Debian's python3-torch on OpenBLAS
# (installed here when missing; needs root or sudo), run through bench/torch_baseline.py, which tries fp32
# and bf16 and counts the better of the two per figure. Keep the machine otherwise idle while it runs.
#
# Environment:
#   PROCS=1         repeat each side's whole process this many times and report medians across processes
#   OUT=DIR         keep the raw JSON there (default: a fresh folder under ${TMPDIR:-/tmp})
#   TORCH_ARGS=...  extra arguments for torch_baseline.py (e.g. "--dtype fp32" or "--budget 120")
set -euo pipefail

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "compare.sh: $*" >&2; exit 1; }

[ $# -ge 1 ] && [ "$1" != "-h" ] && [ "$1" != "--help" ] || { usage; [ $# -ge 1 ]; exit $?; }
shape="$1"; threads="${2:-2}"; runs="${3:-3}"; procs="${PROCS:-1}"
[[ "$threads" =~ ^[1-9][0-9]*$ ]] || die "THREADS must be a positive integer, not '$threads'"
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, not '$runs'"
[[ "$procs" =~ ^[1-9][0-9]*$ ]] || die "PROCS must be a positive integer, not '$procs'"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
PY=/usr/bin/python3    # Debian's python: a pyenv/venv python3 on PATH would not see python3-torch
out="${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/vane-compare-$shape.XXXXXX")}"
mkdir -p "$out"

# --- PyTorch with OpenBLAS --------------------------------------------------------------------------------
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root (or sudo) to install: $*"; fi
}
need=()
[ -x "$PY" ] || need+=(python3)
{ [ -x "$PY" ] && "$PY" -c 'import torch, numpy' 2>/dev/null; } || need+=(python3-torch python3-numpy)
# libopenblas0-pthread replaces the reference BLAS as the system's libblas.so.3; torch_baseline.py runs
# PyTorch on the OpenMP build (libopenblas0-openmp, through LD_LIBRARY_PATH), which shares PyTorch's thread pool.
for pkg in libopenblas0-pthread libopenblas0-openmp; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || die "missing ${need[*]} and no apt-get here: install PyTorch with OpenBLAS for $PY yourself"
  echo "compare.sh: installing ${need[*]} ..." >&2
  as_root apt-get update -qq || die "apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null \
    || die "apt-get install ${need[*]} failed"
fi
"$PY" -c 'import torch' 2>/dev/null || die "$PY cannot import torch even after installing python3-torch"

echo "== BLAS check ($threads threads)"
"$PY" bench/torch_baseline.py --blas-check --threads "$threads" --json > "$out/blas.json" 2> "$out/blas.log" \
  || { cat "$out/blas.log" >&2; die "PyTorch does not use OpenBLAS (see above; is libopenblas0-pthread installed and selected by update-alternatives --display libblas.so.3-x86_64-linux-gnu?)"; }
"$PY" - "$out/blas.json" <<'EOF' || die "the GEMM is too slow for an optimized BLAS: the comparison would be against a strawman"
import json, sys
b = json.load(open(sys.argv[1]))
print(f"torch {b['torch_version']} (built with BLAS_INFO={b['torch_build_blas']}), loads {b['libraries'][-1]}")
for p in b["probes"]:
    print(f"  OpenBLAS core {p['core']:10s} ({p['requested']}): fp32 GEMM 1024^3 {p['gemm_gflop_s']:6.1f} GFLOP/s, GEMV {p['gemv_gb_s']:5.1f} GB/s")
print(f"using the OpenBLAS {b['variant']} build, OPENBLAS_CORETYPE={b['chosen_coretype'] or '(OpenBLAS detection)'}: "
      f"{b['gemm_gflop_s']:.1f} GFLOP/s")
sys.exit(0 if b["gemm_gflop_s"] > 15 else 1)     # the reference BLAS manages about 4
EOF

# --- Vane ---------------------------------------------------------------------------------------------------
echo "== checkpoint"
dir="$(./vane bench --shape "$shape" --prepare)" || die "./vane bench --shape $shape --prepare failed"
dir="$(printf '%s\n' "$dir" | tail -n 1)"
[ -f "$dir/config.json" ] && [ -f "$dir/model.safetensors" ] || die "no checkpoint in '$dir'"
echo "$dir ($(du -sh "$dir/model.safetensors" | cut -f1))"

# Warns when something else is using the CPUs (sampled over 2 s; the load average would still count our own
# previous run).
load_warning() {
  local a b
  a=$(head -n 1 /proc/stat); sleep 2; b=$(head -n 1 /proc/stat)
  awk -v a="$a" -v b="$b" -v what="$1" 'BEGIN {
    n = split(a, x, " "); split(b, y, " "); tot = 0
    for (i = 2; i <= n; i++) tot += y[i] - x[i]
    idle = (y[5] - x[5]) + (y[6] - x[6]); busy = tot > 0 ? 100 * (1 - idle / tot) : 0
    if (busy > 20) printf "compare.sh: warning: the CPUs are %.0f%% busy with something else before the %s run: figures will be noisy\n", busy, what > "/dev/stderr"
  }'
}

for p in $(seq 1 "$procs"); do
  echo "== vane bench ($p/$procs): $threads threads, median of $runs runs"
  load_warning vane
  ./vane bench --shape "$shape" --threads "$threads" --runs "$runs" --json > "$out/vane-$p.json" \
    || die "./vane bench --shape $shape --threads $threads --runs $runs --json failed"
done

# --- PyTorch ------------------------------------------------------------------------------------------------
for p in $(seq 1 "$procs"); do
  echo "== PyTorch ($p/$procs): $threads threads, median of $runs runs, fp32 and bf16"
  load_warning PyTorch
  # shellcheck disable=SC2086
  "$PY" bench/torch_baseline.py "$dir" --threads "$threads" --runs "$runs" --json ${TORCH_ARGS:-} \
    > "$out/torch-$p.json" || die "bench/torch_baseline.py failed (or measured no configuration)"
done

# --- Table --------------------------------------------------------------------------------------------------
echo
"$PY" - "$out" "$procs" <<'EOF'
import json, os, statistics, sys
out, procs = sys.argv[1], int(sys.argv[2])
V = [json.load(open(os.path.join(out, f"vane-{p}.json"))) for p in range(1, procs + 1)]
T = [json.load(open(os.path.join(out, f"torch-{p}.json"))) for p in range(1, procs + 1)]
blas = json.load(open(os.path.join(out, "blas.json")))

def med(rows, k):
    vals = [r[k] for r in rows if isinstance(r.get(k), (int, float))]
    return statistics.median(vals) if vals else None

bw = med(V, "bandwidth_gb_s")
# PyTorch's decode as a fraction of the machine's bandwidth (vane's triad), by the same definition as vane's
# decode_bandwidth_pct: bytes of weights one decode step reads (in the dtype PyTorch ran) / time per token.
for t in T:
    if bw and t.get("decode_tok_s_128") and t.get("decode_weight_bytes"):
        t["decode_bandwidth_pct"] = t["decode_weight_bytes"] * t["decode_tok_s_128"] / 1e9 / bw * 100

rows = [  # figure, label, unit, how the ratio is formed
    ("load_s", "load", "s", "t/v"),
    ("prefill_tok_s", "prefill 1x512", "tok/s", "v/t"),
    ("extract_tok_s", "extract 32x64", "tok/s", "v/t"),
    ("decode_tok_s_128", "decode @128", "tok/s", "v/t"),
    ("decode_tok_s_1024", "decode @1024", "tok/s", "v/t"),
    ("steer_overhead_pct", "steer overhead", "%", "diff"),
    ("peak_rss_mb", "peak RSS", "MB", "t/v"),
    ("decode_bandwidth_pct", "decode/bandwidth", "%", "v/t"),
]
def f(x, unit):
    if x is None: return "-"
    if unit == "s": return f"{x:.3f}"
    if unit == "%": return f"{x:.1f}"
    return f"{x:.2f}" if abs(x) < 100 else f"{x:.0f}"

t0 = T[0]
print(f"shape {V[0].get('shape')}, {V[0].get('threads')} threads; each figure the median of the runs"
      + (f", then of {procs} processes" if procs > 1 else ""))
print(f"PyTorch {t0.get('torch_version')} eager, {t0.get('blas')}")
print(f"ratio: Vane/PyTorch for speeds, PyTorch/Vane for load time and peak RSS, so > 1 favours Vane; "
      f"for the steering overhead the difference Vane - PyTorch in percentage points")
print()
print(f"{'figure':18s} {'unit':6s} {'Vane':>10s} {'PyTorch':>10s} {'ratio':>8s}  PyTorch dtype")
by = t0.get("dtype_by_figure", {})
for key, label, unit, how in rows:
    v, t = med(V, key), med(T, key)
    if v is None or t is None: r = "-"
    elif how == "diff": r = f"{v - t:+.1f}pp"
    elif how == "v/t": r = f"{v / t:.2f}x" if t else "-"
    else: r = f"{t / v:.2f}x" if v else "-"
    dt = by.get(key, by.get("decode_tok_s_128", "") if key == "decode_bandwidth_pct" else "")
    print(f"{label:18s} {unit:6s} {f(v, unit):>10s} {f(t, unit):>10s} {r:>8s}  {dt}")
print()
tri = med(T, "triad_gb_s")
print(f"memory bandwidth (STREAM triad): Vane {f(bw, 'GB/s')} GB/s" + (f", torch.add cross-check {tri:.1f} GB/s" if tri else ""))
vb, tb = med(V, "weight_bytes_per_token"), med(T, "decode_weight_bytes")
if vb and tb:
    print(f"weights read per decode token: Vane {vb / 1e6:.0f} MB, PyTorch {tb / 1e6:.0f} MB ({by.get('decode_tok_s_128', '?')})")
print(f"fp32 GEMM 1024^3: {blas['gemm_gflop_s']:.1f} GFLOP/s with OpenBLAS core {blas['core']}")
for dt, c in t0.get("configs", {}).items():
    if "error" in c: print(f"PyTorch {dt}: {c['error']}")
    elif c.get("too_slow"): print(f"PyTorch {dt}: too slow (estimated prefill {c.get('estimate_prefill_s', 0):.0f} s), not counted")
print(f"raw JSON: {out}")
EOF
