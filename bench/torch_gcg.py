#!/usr/bin/python3
"""PyTorch eager GCG step, beside `vane bench --gcg` (issue 19): the same algorithm and sizes.

One step on the checkpoint `vane bench --shape S --prepare` writes (the model of bench/torch_baseline.py):
  * the one-hot gradient: a [20, vocab] one-hot suffix times the embedding matrix, the whole sequence
    (32-token prompt + 20-token suffix + 5 tokens + 16-token target) forward, the target's mean cross-entropy,
    backward to the one-hot;
  * top-256 tokens per position by most negative gradient; `batch` candidates, each swapping one random position
    for a random top-256 token;
  * every candidate's target loss, in forwards of 64 candidates that continue the prompt's KV cache (computed once
    per step, as nanoGCG's prefix cache), logits for the target's positions only.
Not included: nanoGCG's decode-encode filter (it needs the tokenizer; Vane's step includes it, so this side is
favoured) and the restriction to ASCII tokens (a mask over the vocabulary, negligible).

Usage:
    /usr/bin/python3 bench/torch_gcg.py DIR --threads 2 [--dtype fp32|bf16] [--runs 3] [--batches 128,512] [--json]
Prints the median seconds per step of --runs steps after one warm-up step, per batch size.
"""
import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_baseline  # noqa: E402  (build_model, import_torch: the same model as the other PyTorch figures)

PROMPT, SUFFIX, AFTER, TARGET, TOP_K, MINI_BATCH = 32, 20, 5, 16, 256, 64


def forward_embeds(torch, model, h, cache, last):
    """model.forward from input embeddings: logits of the last `last` positions, continuing `cache`."""
    b, s, _ = h.shape
    past = cache.length() if cache is not None else 0
    pos = torch.arange(past, past + s).unsqueeze(0)
    cos, sin = model.model.rotary_emb(h, pos)
    mask = None
    if s > 1:
        m = torch.full((s, past + s), torch.finfo(h.dtype).min, dtype=h.dtype)
        mask = torch.triu(m, diagonal=past + 1)[None, None]
    for layer in model.model.layers:
        h = layer(h, cos, sin, mask, cache)[0]
    h = model.model.norm(h[:, -last:, :])
    return model.lm_head(h).float()


def step(torch, model, prompt, suffix, after, target, batch, gen):
    F = torch.nn.functional
    emb = model.model.embed_tokens.weight
    vocab = emb.shape[0]
    t = target.shape[0]
    # 1. the one-hot gradient
    one_hot = torch.zeros(SUFFIX, vocab, dtype=emb.dtype)
    one_hot[torch.arange(SUFFIX), suffix] = 1
    one_hot.requires_grad_(True)
    with torch.enable_grad():
        h = torch.cat([emb[prompt], one_hot @ emb, emb[after], emb[target]]).unsqueeze(0)
        logits = forward_embeds(torch, model, h, None, t + 1)[0, :-1]
        F.cross_entropy(logits, target).backward()
    grad = one_hot.grad
    # 2. candidates: one swap each, a random top-k token at a random position
    top = (-grad).topk(TOP_K, dim=1).indices
    positions = torch.randint(0, SUFFIX, (batch,), generator=gen)
    choice = torch.randint(0, TOP_K, (batch,), generator=gen)
    cands = suffix.repeat(batch, 1)
    cands[torch.arange(batch), positions] = top[positions, choice]
    # 3. losses, the prompt's KV cache computed once and shared
    with torch.inference_mode():
        cache = model.new_cache()
        forward_embeds(torch, model, emb[prompt].unsqueeze(0), cache, 1)
        losses = []
        for i in range(0, batch, MINI_BATCH):
            c = cands[i:i + MINI_BATCH]
            n = c.shape[0]
            shared = model.new_cache()
            shared.k = [k.expand(n, -1, -1, -1) for k in cache.k]
            shared.v = [v.expand(n, -1, -1, -1) for v in cache.v]
            ids = torch.cat([c, after.repeat(n, 1), target.repeat(n, 1)], dim=1)
            out = forward_embeds(torch, model, emb[ids], shared, t + 1)[:, :-1]
            losses.append(F.cross_entropy(out.reshape(-1, vocab), target.repeat(n), reduction="none").view(n, t).mean(1))
        loss = torch.cat(losses)
    return cands[loss.argmin()], loss.min().item()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtype", choices=["fp32", "bf16"], default="fp32")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--batches", default="128,512")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch = torch_baseline.import_torch(args.threads)
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[args.dtype]
    keep = []
    model = torch_baseline.build_model(torch, args.dir, dtype, keep)
    vocab = model.config["vocab_size"]
    gen = torch.Generator().manual_seed(0)
    prompt = torch.randint(0, vocab, (PROMPT,), generator=gen)
    after = torch.randint(0, vocab, (AFTER,), generator=gen)
    target = torch.randint(0, vocab, (TARGET,), generator=gen)
    suffix = torch.full((SUFFIX,), 0)
    res = {"dtype": args.dtype, "threads": args.threads, "torch_version": torch.__version__, "gcg_step_s": {}}
    for batch in [int(b) for b in args.batches.split(",")]:
        runs = []
        for r in range(args.runs + 1):
            t0 = time.perf_counter()
            step(torch, model, prompt, suffix, after, target, batch, torch.Generator().manual_seed(r))
            s = time.perf_counter() - t0
            torch_baseline.log(f"[{args.dtype}] gcg step, batch {batch}{' (warm-up)' if r == 0 else ''}: {s:.2f} s")
            if r > 0:
                runs.append(s)
        res["gcg_step_s"][str(batch)] = {"runs": runs, "median": statistics.median(runs)}
    if args.json:
        print(json.dumps(res))
    else:
        for b, v in res["gcg_step_s"].items():
            print(f"batch {b:>4}: {v['median']:.2f} s/step ({args.dtype}, {args.threads} threads)")


if __name__ == "__main__":
    main()
