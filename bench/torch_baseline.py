#!/usr/bin/python3
"""PyTorch baseline for `vane bench`: the same figures, measured on an eager PyTorch model.

The model is written here as plain torch modules that do what Hugging Face transformers' eager
LlamaForCausalLM / Qwen2ForCausalLM do (RMSNorm computed in fp32, rotate-half RoPE with optional llama3
scaling, GQA through repeat_kv, softmax attention with an additive causal mask, SiLU-gated MLP, a KV cache
grown by torch.cat like transformers' DynamicCache, tied lm_head when configured). It loads the same
config.json + model.safetensors that `vane bench --shape S --prepare` writes (any llama/qwen2 directory).

Usage:
    /usr/bin/python3 bench/torch_baseline.py DIR --threads 2 [--dtype best|fp32|bf16] [--runs 3] [--json]
    /usr/bin/python3 bench/torch_baseline.py --blas-check --threads 2     # which BLAS, GEMM GFLOP/s

Figures (medians of --runs after one warm-up; the same definitions as vane-lab's Benchmark):
    load_s              build the model and bring the weights in (bf16: mapped, zero copy, as safetensors
                        does; fp32: read and upcast); excludes interpreter start and `import torch`
    prefill_tok_s       512 / seconds of one forward of 1 x 512 random ids, logits for the last position only
    extract_tok_s       32*64 / seconds of one forward of 32 x 64 ids, a forward hook on every decoder layer
                        cloning its output (resid_post) into a list; no final norm, no lm_head
    decode_tok_s_128    16 / seconds of 16 single-token steps (greedy, logits of the new token only) after a
                        128-token prefill (the prefill is not timed; the cache is cut back to 128 each run)
    decode_tok_s_1024   the same after a 1024-token prefill
    steer_overhead_pct  (t_steered / t_plain - 1) * 100 at context 128, a forward hook on every decoder layer
                        adding a fixed random vector to its output; plain and steered runs interleaved
    peak_rss_mb         ru_maxrss of the measuring process (MiB), which only ever holds one dtype's model

--dtype best (the default) measures fp32 and bf16 each in its own child process and keeps, per figure, the
better one (steer_overhead_pct goes with the dtype that won decode_tok_s_128). A dtype whose estimated
prefill exceeds --budget seconds is abandoned and reported as too slow, so the script never hangs.

OpenBLAS (Debian's python3-torch 1.13 calls whatever libblas.so.3 provides; the reference BLAS by default):
  * build: with --blas-lib auto (the default) the children load the OpenMP build of OpenBLAS
    (libopenblas0-openmp) through LD_LIBRARY_PATH when it is installed. It shares PyTorch's OpenMP pool, so
    --threads N is N threads in all; the pthread build adds a second pool of N spinning threads, which on
    2 cores made decode erratic (100-400 tokens/s within one run). The system default is left alone.
  * kernels: OpenBLAS 0.3.21 does not know recent Xeons (e.g. Emerald Rapids, family 6 model 207) and falls
    back to its generic Prescott kernels. With --blas-core auto the parent times a GEMM with the detected
    core and with OPENBLAS_CORETYPE=Haswell / SkylakeX (where the CPU has the instructions) and uses the
    fastest, which is what a careful user (or MKL in PyTorch's wheels) would get.
"""
import argparse
import gc
import json
import math
import os
import statistics
import subprocess
import sys
import time

FIGURES = ["load_s", "prefill_tok_s", "extract_tok_s", "decode_tok_s_128", "decode_tok_s_1024",
           "steer_overhead_pct", "peak_rss_mb"]
LOWER_IS_BETTER = {"load_s", "peak_rss_mb", "steer_overhead_pct"}
PREFILL_TOKENS = 512
EXTRACT_ROWS, EXTRACT_TOKENS = 32, 64
DECODE_STEPS = 16


def log(msg):
    print("torch_baseline: " + msg, file=sys.stderr, flush=True)


def set_thread_env(env, threads):
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[k] = str(threads)
    return env


# ---------------------------------------------------------------------------------------------------------
# Child side: imports torch, builds the model, measures.
# ---------------------------------------------------------------------------------------------------------

def import_torch(threads):
    set_thread_env(os.environ, threads)   # before torch (and OpenBLAS's thread pool) start
    import torch
    torch.set_num_threads(threads)
    return torch


def blas_info(torch):
    """Which BLAS this process has loaded: the library file from /proc/self/maps and OpenBLAS's core name."""
    import ctypes
    libs = sorted({line.split()[-1] for line in open("/proc/self/maps")
                   if "blas" in line.lower() and line.split()[-1].startswith("/")})
    info = {"libraries": libs, "openblas": any("openblas" in l for l in libs), "core": None, "config": None}
    for lib in libs:
        if "openblas" in lib:
            try:
                h = ctypes.CDLL(lib)
                h.openblas_get_corename.restype = ctypes.c_char_p
                h.openblas_get_config.restype = ctypes.c_char_p
                info["core"] = h.openblas_get_corename().decode()
                info["config"] = h.openblas_get_config().decode().strip()
            except (OSError, AttributeError):
                pass
            break
    build = torch.__config__.show()
    info["torch_build_blas"] = next((p.split("=", 1)[1] for p in build.replace(",", " ").split()
                                     if p.startswith("BLAS_INFO=")), "?")
    return info


def gemm_gflops(torch, n=1024, seconds=1.0):
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(2):
        a @ b
    k, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        a @ b
        k += 1
    return 2.0 * n ** 3 * k / (time.perf_counter() - t0) / 1e9


def gemv_gb_s(torch, rows=4864, cols=896, seconds=0.5):
    w, x = torch.randn(rows, cols), torch.randn(1, cols)
    for _ in range(3):
        x @ w.t()
    k, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        x @ w.t()
        k += 1
    return w.numel() * 4 * k / (time.perf_counter() - t0) / 1e9


def triad_gb_s(torch, n=1 << 25, passes=5):
    """STREAM triad a = b + 3 c over float64 arrays, 24 bytes per element, best pass (as vane's MemoryBandwidth)."""
    a = torch.empty(n, dtype=torch.float64)
    b = torch.full((n,), 1.0, dtype=torch.float64)
    c = torch.full((n,), 2.0, dtype=torch.float64)
    best = float("inf")
    for p in range(passes + 1):
        t0 = time.perf_counter()
        torch.add(b, c, alpha=3.0, out=a)
        dt = time.perf_counter() - t0
        if p > 0:
            best = min(best, dt)
    assert float(a[-1]) == 7.0
    return 24.0 * n / best / 1e9


def read_safetensors(torch, directory, dtype, keep):
    """name -> tensor. BF16 files in bf16 mode are mapped (zero copy, like safetensors' torch loader);
    otherwise each tensor is read and converted. `keep` collects objects that must outlive the tensors."""
    import mmap
    import struct
    index = os.path.join(directory, "model.safetensors.index.json")
    if os.path.exists(index):
        files = sorted(set(json.load(open(index))["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    st_types = {"BF16": (torch.bfloat16, torch.int16, 2), "F16": (torch.float16, torch.int16, 2),
                "F32": (torch.float32, torch.float32, 4)}
    out = {}
    for fname in files:
        path = os.path.join(directory, fname)
        with open(path, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(n))
            base = 8 + n
            mm = None
            for name, info in header.items():
                if name == "__metadata__":
                    continue
                if info["dtype"] not in st_types:
                    raise SystemExit(f"{path}: tensor {name} has dtype {info['dtype']}, not supported here")
                st_dtype, raw_dtype, size = st_types[info["dtype"]]
                start, end = info["data_offsets"]
                count = (end - start) // size
                shape = info["shape"]
                if st_dtype == dtype:
                    if mm is None:
                        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)   # private, copy-on-write
                        keep.append(mm)
                    t = torch.frombuffer(mm, dtype=raw_dtype, count=count, offset=base + start) if count else \
                        torch.empty(0, dtype=raw_dtype)
                    t = t.view(st_dtype).reshape(shape)
                else:
                    raw = torch.empty(count, dtype=raw_dtype)
                    f.seek(base + start)
                    f.readinto(memoryview(raw.numpy()).cast("B"))
                    t = raw.view(st_dtype).reshape(shape).to(dtype)
                out[name] = t
    return out


def build_model(torch, directory, dtype, keep):
    import torch.nn as nn
    import torch.nn.functional as F

    cfg = json.load(open(os.path.join(directory, "config.json")))
    if cfg.get("model_type") not in ("llama", "qwen2"):
        raise SystemExit(f"model_type {cfg.get('model_type')!r} is not llama or qwen2")
    hidden, n_layers = cfg["hidden_size"], cfg["num_hidden_layers"]
    n_heads = cfg["num_attention_heads"]
    n_kv = cfg.get("num_key_value_heads") or n_heads
    head_dim = cfg.get("head_dim") or hidden // n_heads
    eps = cfg.get("rms_norm_eps", 1e-6)
    theta = cfg.get("rope_theta", 10000.0)
    scaling = cfg.get("rope_scaling") or None
    w = read_safetensors(torch, directory, dtype, keep)
    tied = "lm_head.weight" not in w
    if cfg.get("tie_word_embeddings", False) and not tied:
        tied = True     # transformers ties and ignores a stored lm_head
    if cfg.get("hidden_act", "silu") != "silu":
        raise SystemExit("only hidden_act silu is supported")

    def P(t):
        return nn.Parameter(t, requires_grad=False)

    def linear(prefix):
        weight = w[prefix + ".weight"]
        lin = nn.Linear(weight.shape[1], weight.shape[0], bias=(prefix + ".bias") in w, device="meta")
        lin.weight = P(weight)
        if lin.bias is not None:
            lin.bias = P(w[prefix + ".bias"])
        return lin

    class RMSNorm(nn.Module):                    # transformers' LlamaRMSNorm / Qwen2RMSNorm
        def __init__(self, weight):
            super().__init__()
            self.weight = P(weight)
            self.eps = eps

        def forward(self, h):
            dt = h.dtype
            h = h.to(torch.float32)
            variance = h.pow(2).mean(-1, keepdim=True)
            h = h * torch.rsqrt(variance + self.eps)
            return self.weight * h.to(dt)

    def inv_freq():
        inv = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
        rope_type = (scaling or {}).get("rope_type", (scaling or {}).get("type"))
        if rope_type == "llama3":                # transformers' _compute_llama3_parameters
            factor = scaling["factor"]
            low, high = scaling["low_freq_factor"], scaling["high_freq_factor"]
            old = scaling["original_max_position_embeddings"]
            low_wavelen, high_wavelen = old / low, old / high
            wavelen = 2 * math.pi / inv
            inv_l = torch.where(wavelen > low_wavelen, inv / factor, inv)
            smooth = (old / wavelen - low) / (high - low)
            smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
            medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
            inv = torch.where(medium, smoothed, inv_l)
        elif rope_type not in (None, "default"):
            raise SystemExit(f"rope_scaling {rope_type} not supported")
        return inv

    class Rotary(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("inv_freq", inv_freq(), persistent=False)

        def forward(self, x, position_ids):
            inv = self.inv_freq[None, :, None].float().expand(position_ids.shape[0], -1, 1)
            pos = position_ids[:, None, :].float()
            freqs = (inv @ pos).transpose(1, 2)
            emb = torch.cat((freqs, freqs), dim=-1)
            return emb.cos().to(x.dtype), emb.sin().to(x.dtype)

    def rotate_half(x):
        x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
        return torch.cat((-x2, x1), dim=-1)

    def repeat_kv(x, n_rep):
        b, h, s, d = x.shape
        if n_rep == 1:
            return x
        return x[:, :, None, :, :].expand(b, h, n_rep, s, d).reshape(b, h * n_rep, s, d)

    class Attention(nn.Module):
        def __init__(self, p, idx):
            super().__init__()
            self.idx = idx
            self.q_proj, self.k_proj = linear(p + ".q_proj"), linear(p + ".k_proj")
            self.v_proj, self.o_proj = linear(p + ".v_proj"), linear(p + ".o_proj")

        def forward(self, h, cos, sin, mask, cache):
            b, s, _ = h.shape
            q = self.q_proj(h).view(b, s, n_heads, head_dim).transpose(1, 2)
            k = self.k_proj(h).view(b, s, n_kv, head_dim).transpose(1, 2)
            v = self.v_proj(h).view(b, s, n_kv, head_dim).transpose(1, 2)
            c, sn = cos.unsqueeze(1), sin.unsqueeze(1)
            q = q * c + rotate_half(q) * sn
            k = k * c + rotate_half(k) * sn
            if cache is not None:
                k, v = cache.update(k, v, self.idx)
            k, v = repeat_kv(k, n_heads // n_kv), repeat_kv(v, n_heads // n_kv)
            a = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(head_dim)
            if mask is not None:
                a = a + mask[:, :, :, : k.shape[-2]]
            a = F.softmax(a, dim=-1, dtype=torch.float32).to(q.dtype)
            o = torch.matmul(a, v).transpose(1, 2).contiguous().reshape(b, s, -1)
            return self.o_proj(o)

    class MLP(nn.Module):
        def __init__(self, p):
            super().__init__()
            self.gate_proj, self.up_proj = linear(p + ".gate_proj"), linear(p + ".up_proj")
            self.down_proj = linear(p + ".down_proj")

        def forward(self, x):
            return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))

    class DecoderLayer(nn.Module):
        def __init__(self, i):
            super().__init__()
            p = f"model.layers.{i}"
            self.self_attn = Attention(p + ".self_attn", i)
            self.mlp = MLP(p + ".mlp")
            self.input_layernorm = RMSNorm(w[p + ".input_layernorm.weight"])
            self.post_attention_layernorm = RMSNorm(w[p + ".post_attention_layernorm.weight"])

        def forward(self, h, cos, sin, mask, cache):
            r = h
            h = r + self.self_attn(self.input_layernorm(h), cos, sin, mask, cache)
            r = h
            h = r + self.mlp(self.post_attention_layernorm(h))
            return (h,)                          # a tuple, like transformers, so hooks see output[0]

    class Cache:                                 # transformers' DynamicCache: torch.cat per step
        def __init__(self):
            self.k, self.v = [None] * n_layers, [None] * n_layers

        def length(self):
            return 0 if self.k[0] is None else self.k[0].shape[-2]

        def update(self, k, v, i):
            if self.k[i] is None:
                self.k[i], self.v[i] = k, v
            else:
                self.k[i] = torch.cat([self.k[i], k], dim=-2)
                self.v[i] = torch.cat([self.v[i], v], dim=-2)
            return self.k[i], self.v[i]

        def truncate(self, n):
            self.k = [t[:, :, :n] for t in self.k]
            self.v = [t[:, :, :n] for t in self.v]

    class Inner(nn.Module):
        def __init__(self):
            super().__init__()
            emb = w["model.embed_tokens.weight"]
            self.embed_tokens = nn.Embedding(emb.shape[0], emb.shape[1], device="meta")
            self.embed_tokens.weight = P(emb)
            self.layers = nn.ModuleList([DecoderLayer(i) for i in range(n_layers)])
            self.norm = RMSNorm(w["model.norm.weight"])
            self.rotary_emb = Rotary()

    class CausalLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = Inner()
            emb = self.model.embed_tokens.weight
            self.lm_head = nn.Linear(emb.shape[1], emb.shape[0], bias=False, device="meta")
            self.lm_head.weight = emb if tied else P(w["lm_head.weight"])
            self.config = cfg
            self.tied = tied

        def new_cache(self):
            return Cache()

        def forward(self, ids, cache=None, logits="last"):
            """logits: 'last' (last position only), 'none' (stop after the last decoder layer), 'all'."""
            b, s = ids.shape
            h = self.model.embed_tokens(ids)
            past = cache.length() if cache is not None else 0
            pos = torch.arange(past, past + s).unsqueeze(0)
            cos, sin = self.model.rotary_emb(h, pos)
            mask = None
            if s > 1:                            # a 1-token step sees everything: its mask is all zeros
                m = torch.full((s, past + s), torch.finfo(h.dtype).min, dtype=h.dtype)
                m = torch.triu(m, diagonal=past + 1)
                mask = m[None, None]
            for layer in self.model.layers:
                h = layer(h, cos, sin, mask, cache)[0]
            if logits == "none":
                return h
            h = self.model.norm(h)
            if logits == "last":
                h = h[:, -1:, :]
            return self.lm_head(h).float()

        def decode_weight_bytes(self):
            """Bytes of weights one decode step reads: every layer's matrices, norms and biases, the final
            norm and the lm_head (the embedding only through one row, so not counted unless tied)."""
            total = 0
            for name, p in self.named_parameters():   # tied weights are yielded once, as embed_tokens
                if name == "model.embed_tokens.weight" and not self.tied:
                    continue
                total += p.numel() * p.element_size()
            return total

    model = CausalLM().eval()
    w.clear()       # the classes above (kept alive by reference cycles) close over w: let go of the tensors
    return model


def run_child(args):
    torch = import_torch(args.threads)
    import resource
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[args.dtype]
    torch.manual_seed(1234)
    res = {"dtype": args.dtype, "threads": args.threads, "runs": args.runs, "torch_version": torch.__version__}
    spread = {}

    def timed(fn, n):
        fn()                                     # warm-up
        v = []
        for _ in range(n):
            t0 = time.perf_counter()
            fn()
            v.append(time.perf_counter() - t0)
        return v

    with torch.inference_mode():
        log(f"[{args.dtype}] loading {args.dir}")
        loads, model, keep = [], None, []
        for i in range(args.runs + 1):
            model, keep = None, []               # drop the previous copy first
            gc.collect()
            t0 = time.perf_counter()
            model = build_model(torch, args.dir, dtype, keep)
            if i > 0:
                loads.append(time.perf_counter() - t0)
        res["load_s"] = statistics.median(loads)
        spread["load_s"] = [min(loads), max(loads)]
        cfg = model.config
        vocab, d = cfg["vocab_size"], cfg["hidden_size"]
        res["blas"] = blas_info(torch)
        res["decode_weight_bytes"] = model.decode_weight_bytes()
        g = torch.Generator().manual_seed(1234)

        def ids(b, s):
            return torch.randint(0, vocab, (b, s), generator=g)

        # Time guard: one layer on 64 tokens and one 1-token step, extrapolated.
        layer = model.model.layers[0]
        x = torch.randn(1, 64, d).to(dtype) * 0.1
        pos = torch.arange(64).unsqueeze(0)
        cos, sin = model.model.rotary_emb(x, pos)
        mask = torch.triu(torch.full((64, 64), torch.finfo(dtype).min, dtype=dtype), diagonal=1)[None, None]
        layer(x[:, :8], cos[:, :8], sin[:, :8], mask[:, :, :8, :8], None)
        t0 = time.perf_counter()
        layer(x, cos, sin, mask, None)
        est_prefill = (time.perf_counter() - t0) * (PREFILL_TOKENS / 64) * len(model.model.layers)
        model(ids(1, 1), None, "last")          # first touch of every weight page, kernel set-up
        t0 = time.perf_counter()
        model(ids(1, 1), None, "last")
        est_step = time.perf_counter() - t0
        res["estimate_prefill_s"], res["estimate_decode_step_s"] = est_prefill, est_step
        log(f"[{args.dtype}] estimated prefill {est_prefill:.2f} s, decode step {est_step:.3f} s")
        if est_prefill > args.budget or est_step * DECODE_STEPS > args.budget:
            res["too_slow"] = True
            res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
            log(f"[{args.dtype}] too slow for the {args.budget:g} s budget: abandoned")
            return res

        log(f"[{args.dtype}] prefill 1 x {PREFILL_TOKENS}")
        prompt = ids(1, PREFILL_TOKENS)
        out = {}

        def prefill():
            out["logits"] = model(prompt, model.new_cache(), "last")
        t0 = time.perf_counter()
        prefill()
        if time.perf_counter() - t0 > args.budget:
            res["too_slow"] = True
            res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
            log(f"[{args.dtype}] prefill took {time.perf_counter() - t0:.0f} s > budget: abandoned")
            return res
        v = timed(prefill, args.runs)
        res["prefill_tok_s"] = PREFILL_TOKENS / statistics.median(v)
        spread["prefill_tok_s"] = [PREFILL_TOKENS / max(v), PREFILL_TOKENS / min(v)]
        res["logits_finite"] = bool(torch.isfinite(out["logits"]).all())

        log(f"[{args.dtype}] extraction {EXTRACT_ROWS} x {EXTRACT_TOKENS}, resid_post cached at every layer")
        batch = ids(EXTRACT_ROWS, EXTRACT_TOKENS)
        acts = []
        handles = [l.register_forward_hook(lambda m, i, o: acts.append(o[0].detach().clone()))
                   for l in model.model.layers]

        def extract():
            acts.clear()
            model(batch, None, "none")
            assert len(acts) == len(model.model.layers)
        v = timed(extract, args.runs)
        for h in handles:
            h.remove()
        acts.clear()
        n = EXTRACT_ROWS * EXTRACT_TOKENS
        res["extract_tok_s"] = n / statistics.median(v)
        spread["extract_tok_s"] = [n / max(v), n / min(v)]

        def prefilled(ctx):
            cache = model.new_cache()
            model(ids(1, ctx), cache, "last")
            return cache

        def decode(cache, ctx):
            tok = torch.tensor([[1]])
            t0 = time.perf_counter()
            for _ in range(DECODE_STEPS):
                logits = model(tok, cache, "last")
                tok = logits[:, -1].argmax(-1, keepdim=True)
            t = time.perf_counter() - t0
            cache.truncate(ctx)
            return t

        log(f"[{args.dtype}] decode at context 128 (plain and steered)")
        vec = ((torch.rand(d, generator=g) - 0.5) * 0.1).to(dtype)

        def steer_hook(m, i, o):
            return (o[0] + vec,) + tuple(o[1:])
        cache = prefilled(128)
        plain, steered = [], []
        for r in range(args.runs + 1):           # first pair is the warm-up; interleaved against drift
            tp = decode(cache, 128)
            handles = [l.register_forward_hook(steer_hook) for l in model.model.layers]
            ts = decode(cache, 128)
            for h in handles:
                h.remove()
            if r > 0:
                plain.append(tp)
                steered.append(ts)
        res["decode_tok_s_128"] = DECODE_STEPS / statistics.median(plain)
        spread["decode_tok_s_128"] = [DECODE_STEPS / max(plain), DECODE_STEPS / min(plain)]
        res["steer_overhead_pct"] = (statistics.median(steered) / statistics.median(plain) - 1) * 100
        res["decode_steer_tok_s_128"] = DECODE_STEPS / statistics.median(steered)
        del cache

        log(f"[{args.dtype}] decode at context 1024")
        cache = prefilled(1024)
        v = [decode(cache, 1024) for _ in range(args.runs + 1)][1:]
        res["decode_tok_s_1024"] = DECODE_STEPS / statistics.median(v)
        spread["decode_tok_s_1024"] = [DECODE_STEPS / max(v), DECODE_STEPS / min(v)]
        del cache

    res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    res["spread"] = spread
    return res


def run_blas_check(args):
    torch = import_torch(args.threads)
    info = blas_info(torch)
    info["gemm_gflop_s"] = gemm_gflops(torch)
    info["gemv_gb_s"] = gemv_gb_s(torch)
    info["threads"] = args.threads
    info["torch_version"] = torch.__version__
    return info


def run_triad(args):
    torch = import_torch(args.threads)
    return {"triad_gb_s": triad_gb_s(torch)}


# ---------------------------------------------------------------------------------------------------------
# Parent side: no torch import; runs children and combines.
# ---------------------------------------------------------------------------------------------------------

def child(args, extra, env, timeout):
    cmd = [sys.executable, os.path.abspath(__file__), "--threads", str(args.threads), "--json"] + extra
    try:
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, timeout=timeout, text=True)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    if p.returncode != 0:
        return {"error": f"exit status {p.returncode}"}
    return json.loads(p.stdout)


def cpu_flags():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


OPENBLAS_DIRS = {"openmp": "/usr/lib/x86_64-linux-gnu/openblas-openmp",
                 "pthread": "/usr/lib/x86_64-linux-gnu/openblas-pthread"}


def choose_blas_variant(args, env):
    """Which OpenBLAS build the children load, through LD_LIBRARY_PATH (the system default is untouched).
    auto: the OpenMP build where installed (libopenblas0-openmp): it runs on PyTorch's own OpenMP pool, so
    --threads N means N threads in all. The pthread build keeps a second pool of N threads that spin beside
    PyTorch's, which on 2 cores makes small-matrix work (decode) erratic: 100-400 tokens/s on the same run."""
    variant = args.blas_lib
    if variant == "auto":
        variant = "openmp" if os.path.isdir(OPENBLAS_DIRS["openmp"]) else "system"
    if variant in OPENBLAS_DIRS:
        if not os.path.isdir(OPENBLAS_DIRS[variant]):
            raise SystemExit(f"no {OPENBLAS_DIRS[variant]}: install libopenblas0-{variant}")
        env["LD_LIBRARY_PATH"] = OPENBLAS_DIRS[variant] + (":" + env["LD_LIBRARY_PATH"]
                                                           if env.get("LD_LIBRARY_PATH") else "")
    return variant


def choose_blas_core(args, env):
    """OPENBLAS_CORETYPE to use: the given one, or with 'auto' the fastest GEMM among the detected core and
    the kernels the CPU can run. Returns (core or None, list of probe results)."""
    if args.blas_core not in ("auto", "default"):
        env["OPENBLAS_CORETYPE"] = args.blas_core
        return args.blas_core, []
    if args.blas_core == "default" or "OPENBLAS_CORETYPE" in os.environ:
        return os.environ.get("OPENBLAS_CORETYPE"), []
    flags = cpu_flags()
    candidates = [None]
    if {"avx2", "fma"} <= flags:
        candidates.append("Haswell")
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
        candidates.append("SkylakeX")
    probes = []
    for core in candidates:
        e = dict(env)
        e.pop("OPENBLAS_CORETYPE", None)
        if core:
            e["OPENBLAS_CORETYPE"] = core
        r = child(args, ["--blas-check", "--child"], e, 120)
        r["requested"] = core or "detected"
        probes.append(r)
        log(f"BLAS probe {r['requested']}: core {r.get('core')}, GEMM {r.get('gemm_gflop_s', 0):.1f} GFLOP/s")
    ok = [p for p in probes if "gemm_gflop_s" in p]
    if not ok:
        return None, probes
    best = max(ok, key=lambda p: p["gemm_gflop_s"])
    if best["requested"] != "detected":
        env["OPENBLAS_CORETYPE"] = best["requested"]
        return best["requested"], probes
    return None, probes


def combine(results):
    good = {k: v for k, v in results.items() if "error" not in v and not v.get("too_slow")}
    best, won = {}, {}
    for f in FIGURES:
        cands = [(v[f], k) for k, v in good.items() if f in v]
        if not cands:
            continue
        if f == "steer_overhead_pct":
            continue
        val, k = (min if f in LOWER_IS_BETTER else max)(cands)
        best[f], won[f] = val, k
    if "decode_tok_s_128" in won:                # overhead of the configuration whose decode counts
        k = won["decode_tok_s_128"]
        best["steer_overhead_pct"], won["steer_overhead_pct"] = good[k]["steer_overhead_pct"], k
    if "decode_tok_s_128" in won:
        k = won["decode_tok_s_128"]
        best["decode_weight_bytes"] = good[k]["decode_weight_bytes"]
    return best, won


def fmt(v, f):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if f == "load_s":
        return f"{v:.3f}"
    if f in ("steer_overhead_pct",):
        return f"{v:+.1f}"
    return f"{v:.2f}" if v < 100 else f"{v:.0f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("dir", nargs="?", help="checkpoint directory (config.json + model.safetensors)")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--dtype", choices=["best", "fp32", "bf16"], default="best")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--budget", type=float, default=60.0,
                    help="seconds a prefill (estimated, then measured) may take before a dtype is abandoned")
    ap.add_argument("--timeout", type=float, default=3600.0, help="hard limit in seconds per dtype child")
    ap.add_argument("--blas-core", default="auto",
                    help="OPENBLAS_CORETYPE: auto (fastest GEMM), default (OpenBLAS's detection) or a name")
    ap.add_argument("--blas-lib", choices=["auto", "openmp", "pthread", "system"], default="auto",
                    help="OpenBLAS build: auto (openmp where installed), openmp, pthread, or system (libblas.so.3 "
                         "as update-alternatives selects it)")
    ap.add_argument("--no-triad", action="store_true", help="skip the STREAM triad cross-check")
    ap.add_argument("--blas-check", action="store_true", help="print the BLAS in use and GEMM GFLOP/s, exit")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--triad-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.threads < 1 or args.runs < 1:
        ap.error("--threads and --runs must be >= 1")

    if args.triad_only:
        print(json.dumps(run_triad(args)))
        return 0
    if args.blas_check and args.child:
        print(json.dumps(run_blas_check(args)))
        return 0
    if args.child:
        print(json.dumps(run_child(args)))
        return 0

    env = set_thread_env(dict(os.environ), args.threads)
    variant = choose_blas_variant(args, env)
    if args.blas_check:
        core, probes = choose_blas_core(args, env)
        r = child(args, ["--blas-check", "--child"], env, 120) if not probes else \
            next(p for p in probes if p["requested"] == (core or "detected"))
        r["chosen_coretype"] = core
        r["variant"] = variant
        r["probes"] = [{k: p.get(k) for k in ("requested", "core", "gemm_gflop_s", "gemv_gb_s")} for p in probes]
        if args.json:
            print(json.dumps(r))
        else:
            print(f"torch {r.get('torch_version')}, built with BLAS_INFO={r.get('torch_build_blas')}")
            print(f"BLAS libraries loaded: {', '.join(r.get('libraries', [])) or 'none'}")
            print(f"OpenBLAS in use: {'yes' if r.get('openblas') else 'NO'} ({variant} build); core {r.get('core')}; "
                  f"{r.get('config')}")
            for p in r["probes"]:
                print(f"  probe {p['requested']:9s} core {p['core']}: GEMM {p['gemm_gflop_s']:.1f} GFLOP/s, "
                      f"GEMV {p['gemv_gb_s']:.1f} GB/s")
            print(f"chosen OPENBLAS_CORETYPE: {core or '(OpenBLAS detection)'}")
            print(f"fp32 GEMM 1024^3 on {args.threads} threads: {r.get('gemm_gflop_s', 0):.1f} GFLOP/s")
        return 0 if r.get("openblas") else 3

    if not args.dir or not os.path.isfile(os.path.join(args.dir, "config.json")):
        ap.error("DIR must be a checkpoint directory with config.json and model.safetensors")
    core, probes = choose_blas_core(args, env)
    results = {}
    dtypes = ["fp32", "bf16"] if args.dtype == "best" else [args.dtype]
    for dt in dtypes:
        log(f"measuring {dt} in a child process (OPENBLAS_CORETYPE={env.get('OPENBLAS_CORETYPE', 'detected')})")
        results[dt] = child(args, [args.dir, "--child", "--dtype", dt, "--runs", str(args.runs),
                                   "--budget", str(args.budget)], env, args.timeout)
        if "error" in results[dt]:
            log(f"{dt}: {results[dt]['error']}")
    triad = None if args.no_triad else child(args, ["--triad-only"], env, 300).get("triad_gb_s")
    best, won = combine(results)
    first = next((v for v in results.values() if "blas" in v), {})
    out = {"dir": os.path.abspath(args.dir), "threads": args.threads, "runs": args.runs}
    out.update(best)
    out["dtype"] = ("/".join(sorted(set(won.values()))) if won else None)
    out["dtype_by_figure"] = won
    out["torch_version"] = first.get("torch_version")
    b = first.get("blas", {})
    out["blas"] = (f"OpenBLAS {variant} build, {b.get('core')} kernels ({b.get('config')})" if b.get("openblas")
                   else f"not OpenBLAS: {', '.join(b.get('libraries', [])) or 'unknown'}")
    out["openblas"] = bool(b.get("openblas"))
    out["openblas_coretype"] = core
    out["openblas_build"] = variant
    out["blas_probes"] = [{k: p.get(k) for k in ("requested", "core", "gemm_gflop_s")} for p in probes]
    out["triad_gb_s"] = triad
    if triad and best.get("decode_tok_s_128"):  # compare.sh recomputes this with vane's bandwidth figure
        out["decode_bandwidth_pct"] = best["decode_weight_bytes"] * best["decode_tok_s_128"] / 1e9 / triad * 100
    out["configs"] = results
    if args.json:
        print(json.dumps(out))
    else:
        print(f"PyTorch {out['torch_version']} eager baseline, {args.threads} threads, median of {args.runs} runs")
        print(f"BLAS: {out['blas']}; triad {triad and round(triad, 1)} GB/s")
        names = dtypes + (["best"] if len(dtypes) > 1 else [])
        print(f"{'figure':22s}" + "".join(f"{n:>12s}" for n in names))
        for f in FIGURES:
            row = []
            for dt in dtypes:
                r = results[dt]
                row.append(r["error"][:11] if "error" in r else
                           "too slow" if r.get("too_slow") and f not in ("load_s", "peak_rss_mb") else fmt(r.get(f), f))
            if len(dtypes) > 1:
                row.append(fmt(best.get(f), f) + (f" {won[f]}" if f in won else ""))
            print(f"{f:22s}" + "".join(f"{c:>12s}" for c in row))
    return 0 if best else 2


if __name__ == "__main__":
    sys.exit(main())
