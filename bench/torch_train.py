#!/usr/bin/python3
"""PyTorch training baseline for `vane bench --train`: tokens/s of one optimiser step, eager PyTorch.

The model is torch_baseline.py's eager Llama/Qwen2 (imported from there, not copied), built from the same
synthetic checkpoint that `vane bench --shape S --prepare` writes (random bf16 weights, the exact layout of
the named model), so both sides train the same shape. One step is: forward of a 1 x SEQ batch of random ids,
cross-entropy over all SEQ positions (each position predicts the next id of a SEQ+1 random sequence, logits
for every position), backward, AdamW step. Reported: SEQ / seconds per step, the median of --runs steps after
one warm-up step (which also allocates AdamW's state), and the process's peak resident memory.

Usage:
    /usr/bin/python3 bench/torch_train.py --shape qwen2.5-0.5b --threads 2 [--mode lora|full|both]
                     [--dtype fp32|bf16|both] [--runs 3] [--seq 512] [--budget 600]
    /usr/bin/python3 bench/torch_train.py DIR ...        # any llama/qwen2 checkpoint folder instead of --shape

Configurations (each (mode, dtype) in its own child process, so every peak is clean):
    lora   rank 16, alpha 32, dropout 0 (PEFT's LoraConfig defaults apart from r/alpha), targets q,k,v,o,gate,
           up,down: each target nn.Linear is wrapped as PEFT's LoraLinear does (base(x) + scaling *
           B(A(dropout(x))), A kaiming-uniform a=sqrt(5), B zeros, scaling = alpha / r, adapters in fp32);
           base weights frozen (requires_grad False); AdamW over the adapters only
    full   every parameter trainable in fp32 (master weights), AdamW over all of them
    fp32   everything in fp32
    bf16   torch.autocast('cpu', dtype=torch.bfloat16) around the forward (the loss in fp32). In full mode the
           weights stay fp32 (mixed precision); in lora mode the frozen base is held in bf16 (mapped from the
           checkpoint, as from_pretrained(torch_dtype=torch.bfloat16) + PEFT would), adapters in fp32;
           --bf16-lora-base fp32 keeps it in fp32 instead
Per mode the faster dtype is marked "best" (the one compared against Vane).

Skips, with the reason in the JSON instead of a number:
    memory   before the first backward (which allocates gradients) and AdamW's state, the child estimates what
             the step still needs (gradients + 2 AdamW moments per trainable parameter, autocast's bf16 weight
             copies, the activations autograd keeps) and skips when it exceeds the memory available
             (MemAvailable, and the cgroup's limit where there is one). A child killed anyway is reported
             as killed (probably out of memory), never taking the parent down.
    budget   one decoder layer's forward + backward on 64 tokens is timed and extrapolated to a step; a
             configuration whose warm-up + --runs steps would exceed --budget seconds is skipped (PyTorch 1.13's
             bf16 on a CPU without AVX-512 BF16 is far too slow, for example), and again after the warm-up
             step when the measured step says the same.

Output: one JSON object on stdout (progress on stderr):
    {"shape", "dir", "threads", "runs", "seq", "torch": version, "blas": "<loaded BLAS>; torch.__config__:
     BLAS_INFO=...", "blas_detail": {...}, "lora": {"rank", "alpha", "dropout", "targets"},
     "optimizer": {...}, "train": {"lora": {"fp32": CONFIG, "bf16": CONFIG, "best": "fp32"|"bf16"|null},
                                   "full": {...}}}
    CONFIG = {"tok_s": [per run], "median", "step_s": [per run], "peak_mib", "loss_first", "loss_last",
              "trainable_params", "weights": "fp32"|"bf16", "estimate_mib", "available_mib", "warmup_s"}
          or {"skipped": "reason", ...whatever was known: peak_mib, estimates}
Exit status 0 when at least one configuration was measured, 2 when none was (the JSON is printed either way).

BLAS: as torch_baseline.py (OpenMP build of OpenBLAS through LD_LIBRARY_PATH, the fastest OPENBLAS_CORETYPE by
a GEMM probe unless --blas-core names one), see its docstring.
"""
import argparse
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_baseline as tb  # noqa: E402  (shares the model, the BLAS set-up and the thread settings)

MODES = ["lora", "full"]
DTYPES = ["fp32", "bf16"]
TARGETS = {"q": ("self_attn", "q_proj"), "k": ("self_attn", "k_proj"), "v": ("self_attn", "v_proj"),
           "o": ("self_attn", "o_proj"), "gate": ("mlp", "gate_proj"), "up": ("mlp", "up_proj"),
           "down": ("mlp", "down_proj")}
MIB = 1024.0 * 1024.0


def log(msg):
    print("torch_train: " + msg, file=sys.stderr, flush=True)


def peak_mib():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0     # ru_maxrss is in KiB on Linux


def available_bytes():
    """Memory this process may still allocate: MemAvailable, capped by the cgroup's limit (v2 or v1)."""
    avail = None
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemAvailable:"):
                avail = int(line.split()[1]) * 1024
    except OSError:
        pass
    for limit_f, usage_f in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                             ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                              "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            limit = open(limit_f).read().strip()
            if limit == "max" or int(limit) >= 1 << 60:
                continue
            left = int(limit) - int(open(usage_f).read().strip())
            avail = left if avail is None else min(avail, left)
        except (OSError, ValueError):
            continue
    return avail


# ---------------------------------------------------------------------------------------------------------
# Child side: one (mode, dtype) configuration.
# ---------------------------------------------------------------------------------------------------------

def make_lora_linear(torch):
    import torch.nn as nn

    class LoraLinear(nn.Module):
        """PEFT's lora.Linear for one adapter: base(x) + B(A(dropout(x))) * (alpha / r)."""

        def __init__(self, base, r, alpha, dropout):
            super().__init__()
            self.base_layer = base
            self.lora_dropout = nn.Dropout(p=dropout) if dropout > 0 else nn.Identity()
            self.lora_A = nn.Linear(base.in_features, r, bias=False)        # fp32, as PEFT's default autocast
            self.lora_B = nn.Linear(r, base.out_features, bias=False)       # of adapter weights to fp32
            self.scaling = alpha / r
            nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
            nn.init.zeros_(self.lora_B.weight)

        def forward(self, x):
            result = self.base_layer(x)
            x = x.to(self.lora_A.weight.dtype) if not torch.is_autocast_cpu_enabled() else x
            return result + self.lora_B(self.lora_A(self.lora_dropout(x))) * self.scaling

    return LoraLinear


def add_lora(torch, model, rank, alpha, dropout, targets):
    LoraLinear = make_lora_linear(torch)
    for layer in model.model.layers:
        for t in targets:
            block, name = TARGETS[t]
            parent = getattr(layer, block)
            setattr(parent, name, LoraLinear(getattr(parent, name), rank, alpha, dropout))


def checkpoint_numel(directory):
    """Number of weights in a safetensors checkpoint (single file or sharded), from the headers alone."""
    import struct
    index = os.path.join(directory, "model.safetensors.index.json")
    files = sorted(set(json.load(open(index))["weight_map"].values())) if os.path.exists(index) \
        else ["model.safetensors"]
    total = 0
    for fname in files:
        with open(os.path.join(directory, fname), "rb") as f:
            header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
        total += sum(math.prod(v["shape"]) for k, v in header.items() if k != "__metadata__")
    return total


def activation_bytes(cfg, seq, n_layers, lora_dropout):
    """A generous estimate of what autograd keeps for backward in this eager model (fp32 bytes; the bf16
    autocast path keeps a mix, so this over-counts it) plus the logits and their gradient."""
    d = cfg["hidden_size"]
    heads = cfg["num_attention_heads"]
    kv = (cfg.get("num_key_value_heads") or heads) * (cfg.get("head_dim") or d // heads)
    inter = cfg["intermediate_size"]
    per_layer = (16 * seq * d            # norms (input, fp32 copy, rsqrt product), residuals, attention output
                 + 8 * seq * kv          # k, v and their RoPE pieces, repeat_kv expansions counted in 16 sd
                 + 4 * seq * inter       # gate, up, silu(gate), product
                 + 4 * heads * seq * seq)   # scores, scaled, masked, softmax
    if lora_dropout > 0:
        per_layer += 4 * seq * d + 3 * seq * inter
    logits = 4 * seq * cfg["vocab_size"]    # logits, .float(), log-softmax, its gradient
    return 4 * (n_layers * per_layer + logits)


def run_child(args):
    torch = tb.import_torch(args.threads)
    import torch.nn.functional as F
    mode, dt = args.mode, args.dtype
    torch.manual_seed(1234)
    res = {"mode": mode, "dtype": dt, "threads": args.threads, "torch": torch.__version__,
           "blas": tb.blas_info(torch)}

    def skip(reason):
        res["skipped"] = reason
        res["peak_mib"] = peak_mib()
        log(f"[{mode} {dt}] skipped: {reason}")
        return res

    # Weights: fp32 master weights, except the frozen base of bf16 LoRA (see the docstring).
    weights = "bf16" if (mode == "lora" and dt == "bf16" and args.bf16_lora_base == "bf16") else "fp32"
    wdtype = torch.bfloat16 if weights == "bf16" else torch.float32
    res["weights"] = weights
    if weights == "fp32":                # read and upcast: 4 bytes per parameter in anonymous memory
        load = 4 * checkpoint_numel(args.dir) + 512 * MIB
        avail = available_bytes()
        if avail is not None and load > avail:
            return skip(f"would not fit in memory: the fp32 weights alone need {load / 2**30:.1f} GiB, "
                        f"{avail / 2**30:.1f} GiB available")
    log(f"[{mode} {dt}] loading {args.dir} ({weights} weights)")
    keep = []
    model = tb.build_model(torch, args.dir, wdtype, keep)
    model.train()
    cfg = model.config
    n_layers, vocab = cfg["num_hidden_layers"], cfg["vocab_size"]
    if mode == "lora":
        targets = [t for t in args.lora_targets.split(",") if t]
        bad = [t for t in targets if t not in TARGETS]
        if bad:
            raise SystemExit(f"unknown LoRA target(s) {bad}; known: {','.join(TARGETS)}")
        add_lora(torch, model, args.lora_rank, args.lora_alpha, args.lora_dropout, targets)
    else:
        for p in model.parameters():
            p.requires_grad_(True)
    params = [p for p in model.parameters() if p.requires_grad]
    n_train = sum(p.numel() for p in params)
    n_all = sum(p.numel() for p in model.parameters())
    res["trainable_params"], res["total_params"] = n_train, n_all
    log(f"[{mode} {dt}] {n_train:,} trainable of {n_all:,} parameters")

    # Memory still to come: gradients and two AdamW moments (fp32) per trainable parameter, autocast's bf16
    # copies of the fp32 weights (cached per forward for trainable ones, kept for backward for frozen ones),
    # activations; a 512 MiB margin for the allocator and the interpreter.
    frozen_fp32 = sum(p.numel() for p in model.parameters() if not p.requires_grad and p.dtype == torch.float32)
    need = 12 * n_train + activation_bytes(cfg, args.seq, n_layers, args.lora_dropout if mode == "lora" else 0)
    if dt == "bf16":
        need += 2 * (n_train + frozen_fp32)
    need += 512 * MIB
    avail = available_bytes()
    res["estimate_mib"] = round((need + peak_mib() * MIB) / MIB)
    res["available_mib"] = round(avail / MIB) if avail is not None else None
    if avail is not None and need > avail:
        return skip(f"would not fit in memory: the step needs about {need / 2**30:.1f} GiB more (gradients and "
                    f"AdamW state for {n_train / 1e6:.0f} M trainable parameters, activations) on top of "
                    f"{peak_mib() / 1024:.1f} GiB held, {avail / 2**30:.1f} GiB available")

    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if dt == "bf16" else None

    import contextlib

    def ctx():
        return autocast() if autocast else contextlib.nullcontext()

    g = torch.Generator().manual_seed(1234)
    seq_ids = torch.randint(0, vocab, (1, args.seq + 1), generator=g)
    inp, labels = seq_ids[:, :-1], seq_ids[:, 1:]

    # Time guard: one decoder layer forward + backward on 64 tokens, extrapolated to a step.
    d = cfg["hidden_size"]
    n = min(64, args.seq)
    layer = model.model.layers[0]
    x = (torch.randn(1, n, d) * 0.1).to(wdtype).requires_grad_(True)
    pos = torch.arange(n).unsqueeze(0)
    cos, sin = model.model.rotary_emb(x, pos)
    mask = torch.triu(torch.full((n, n), torch.finfo(wdtype).min, dtype=wdtype), diagonal=1)[None, None]

    def layer_step(k):
        with ctx():
            y = layer(x[:, :k], cos[:, :k], sin[:, :k], mask[:, :, :k, :k], None)[0]
        y.float().sum().backward()
    layer_step(min(8, n))
    t0 = time.perf_counter()
    layer_step(n)
    est = (time.perf_counter() - t0) * (args.seq / n) * n_layers * 1.15   # + embedding, lm_head, loss, AdamW
    model.zero_grad(set_to_none=True)
    x.grad = None
    res["estimate_step_s"] = est
    log(f"[{mode} {dt}] estimated step {est:.2f} s")
    if est * (args.runs + 1) > args.budget:
        return skip(f"too slow: a step is estimated at {est:.0f} s (one layer's forward + backward on {n} tokens, "
                    f"extrapolated), so {args.runs + 1} steps exceed the {args.budget:g} s budget")

    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)

    def step():
        opt.zero_grad(set_to_none=True)
        with ctx():
            logits = model(inp, None, "all")          # [1, seq, vocab], .float() in the model
        loss = F.cross_entropy(logits.reshape(-1, vocab).float(), labels.reshape(-1))
        loss.backward()
        opt.step()
        return float(loss.detach())

    log(f"[{mode} {dt}] warm-up step (1 x {args.seq})")
    t0 = time.perf_counter()
    res["loss_first"] = step()
    res["warmup_s"] = time.perf_counter() - t0
    if res["warmup_s"] * args.runs > args.budget - res["warmup_s"]:
        return skip(f"too slow: the warm-up step took {res['warmup_s']:.0f} s, so {args.runs} more exceed the "
                    f"{args.budget:g} s budget")
    times, losses = [], []
    for r in range(args.runs):
        t0 = time.perf_counter()
        losses.append(step())
        times.append(time.perf_counter() - t0)
        log(f"[{mode} {dt}] step {r + 1}/{args.runs}: {times[-1]:.2f} s, loss {losses[-1]:.4f}")
    res["step_s"] = times
    res["tok_s"] = [args.seq / t for t in times]
    res["median"] = args.seq / statistics.median(times)
    res["loss_last"] = losses[-1]
    res["loss_finite"] = all(math.isfinite(v) for v in [res["loss_first"]] + losses)
    res["peak_mib"] = peak_mib()
    return res


# ---------------------------------------------------------------------------------------------------------
# Parent side: no torch import; one child per configuration.
# ---------------------------------------------------------------------------------------------------------

def run_config(args, mode, dt, env):
    cmd = [sys.executable, os.path.abspath(__file__), args.dir, "--child", "--mode", mode, "--dtype", dt,
           "--threads", str(args.threads), "--runs", str(args.runs), "--seq", str(args.seq),
           "--budget", str(args.budget), "--lora-rank", str(args.lora_rank), "--lora-alpha", str(args.lora_alpha),
           "--lora-dropout", str(args.lora_dropout), "--lora-targets", args.lora_targets, "--lr", str(args.lr),
           "--weight-decay", str(args.weight_decay), "--bf16-lora-base", args.bf16_lora_base]
    timeout = args.timeout if args.timeout else args.budget + 300
    try:
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, timeout=timeout, text=True)
    except subprocess.TimeoutExpired:
        return {"skipped": f"timed out after {timeout:g} s (hard limit per configuration)"}
    if p.returncode == -signal.SIGKILL:
        return {"skipped": "killed by SIGKILL (probably out of memory)"}
    if p.returncode != 0:
        return {"skipped": f"failed: exit status {p.returncode} (see stderr)"}
    try:
        return json.loads(p.stdout)
    except ValueError:
        return {"skipped": "failed: no JSON from the child"}


def resolve_dir(args, ap):
    if args.dir:
        if not os.path.isfile(os.path.join(args.dir, "config.json")):
            ap.error(f"{args.dir}: no config.json (a checkpoint folder with config.json and model.safetensors)")
        return
    if not args.shape:
        ap.error("give --shape NAME or a checkpoint DIR")
    vane = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "vane")
    log(f"{vane} bench --shape {args.shape} --prepare")
    p = subprocess.run([vane, "bench", "--shape", args.shape, "--prepare"], stdout=subprocess.PIPE, text=True)
    lines = p.stdout.strip().splitlines()
    if p.returncode != 0 or not lines or not os.path.isfile(os.path.join(lines[-1], "config.json")):
        raise SystemExit(f"torch_train: `vane bench --shape {args.shape} --prepare` failed (exit {p.returncode})")
    args.dir = lines[-1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("dir", nargs="?", help="checkpoint folder (default: the one `vane bench --shape` writes)")
    ap.add_argument("--shape", help="qwen2.5-0.5b, llama-3.2-1b, tinyllama-1.1b or tiny (via vane bench --prepare)")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--runs", type=int, default=3, help="timed steps after one warm-up step (default 3)")
    ap.add_argument("--seq", type=int, default=512, help="tokens in the 1 x SEQ batch (default 512)")
    ap.add_argument("--mode", choices=["lora", "full", "both"], default="both")
    ap.add_argument("--dtype", choices=["fp32", "bf16", "both"], default="both")
    ap.add_argument("--budget", type=float, default=600.0,
                    help="seconds the warm-up + timed steps of one configuration may take (default 600)")
    ap.add_argument("--timeout", type=float, default=0,
                    help="hard limit in seconds per configuration's process (default budget + 300)")
    ap.add_argument("--lora-rank", type=int, default=16)
    ap.add_argument("--lora-alpha", type=float, default=32.0)
    ap.add_argument("--lora-dropout", type=float, default=0.0)
    ap.add_argument("--lora-targets", default="q,k,v,o,gate,up,down")
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--weight-decay", type=float, default=0.01, help="AdamW's decoupled weight decay (default 0.01)")
    ap.add_argument("--bf16-lora-base", choices=["bf16", "fp32"], default="bf16",
                    help="dtype of the frozen base weights in bf16 LoRA (default bf16)")
    ap.add_argument("--blas-core", default="auto",
                    help="OPENBLAS_CORETYPE: auto (fastest GEMM), default (OpenBLAS's detection) or a name")
    ap.add_argument("--blas-lib", choices=["auto", "openmp", "pthread", "system"], default="auto",
                    help="OpenBLAS build: auto (openmp where installed), openmp, pthread, or system")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.threads < 1 or args.runs < 1 or args.seq < 2:
        ap.error("--threads and --runs must be >= 1, --seq >= 2")
    if args.lora_rank < 1 or not 0 <= args.lora_dropout < 1:
        ap.error("--lora-rank must be >= 1 and --lora-dropout in [0, 1)")

    if args.child:
        print(json.dumps(run_child(args)))
        return 0

    resolve_dir(args, ap)
    env = tb.set_thread_env(dict(os.environ), args.threads)
    variant = tb.choose_blas_variant(args, env)
    core, probes = tb.choose_blas_core(args, env)
    modes = MODES if args.mode == "both" else [args.mode]
    dtypes = DTYPES if args.dtype == "both" else [args.dtype]
    train, first = {}, {}
    for mode in modes:
        train[mode] = {}
        for dt in dtypes:
            log(f"{mode} {dt} in a child process (OPENBLAS_CORETYPE={env.get('OPENBLAS_CORETYPE', 'detected')})")
            r = run_config(args, mode, dt, env)
            if "blas" in r and not first:
                first = dict(r)
            r.pop("blas", None)
            for k in ("mode", "dtype", "threads", "torch"):
                r.pop(k, None)
            train[mode][dt] = r
            if "skipped" in r:
                log(f"{mode} {dt}: skipped: {r['skipped']}")
            else:
                log(f"{mode} {dt}: median {r['median']:.2f} tok/s, peak {r['peak_mib']:.0f} MiB")
        measured = [(c["median"], dt) for dt, c in train[mode].items() if "median" in c]
        train[mode]["best"] = max(measured)[1] if measured else None

    cfg = json.load(open(os.path.join(args.dir, "config.json")))
    b = first.get("blas", {})
    loaded = (f"OpenBLAS {variant} build, {b.get('core')} kernels ({b.get('config')})" if b.get("openblas")
              else f"not OpenBLAS: {', '.join(b.get('libraries', [])) or 'unknown'}")
    out = {
        "shape": args.shape or os.path.basename(os.path.normpath(args.dir)),
        "dir": os.path.abspath(args.dir),
        "model_type": cfg.get("model_type"),
        "threads": args.threads, "runs": args.runs, "seq": args.seq,
        "torch": first.get("torch"),
        "blas": f"{loaded}; torch.__config__: BLAS_INFO={b.get('torch_build_blas', '?')}",
        "blas_detail": {"openblas": bool(b.get("openblas")), "build": variant, "coretype": core,
                        "libraries": b.get("libraries"), "torch_build_blas": b.get("torch_build_blas"),
                        "probes": [{k: p.get(k) for k in ("requested", "core", "gemm_gflop_s")} for p in probes]},
        "lora": {"rank": args.lora_rank, "alpha": args.lora_alpha, "dropout": args.lora_dropout,
                 "targets": args.lora_targets.split(","), "bf16_base": args.bf16_lora_base},
        "optimizer": {"name": "AdamW", "lr": args.lr, "betas": [0.9, 0.999], "eps": 1e-8,
                      "weight_decay": args.weight_decay},
        "loss": f"cross-entropy over all {args.seq} positions (next id of a {args.seq + 1}-id random sequence)",
        "train": train,
    }
    print(json.dumps(out))
    return 0 if any(train[m]["best"] for m in train) else 2


if __name__ == "__main__":
    sys.exit(main())
