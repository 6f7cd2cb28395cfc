#!/usr/bin/python3
"""Checks that torch_baseline.py's model computes what transformers computes, against fixtures/hf/*.

    /usr/bin/python3 bench/check_reference.py [FAMILY ...]     # default: llama2 llama3 qwen2

Per family (fp32): logits of every reference sequence, resid_post of every block (what the extraction hook
caches), greedy decoding through the KV cache (step logits), and a steering vector added by a forward hook
after block 1 (prompt and generated tokens). Exits non-zero on a mismatch.
"""
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_baseline as tb  # noqa: E402

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "hf")


def load_reference(torch, path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(info["shape"])
    return out


def main():
    torch = tb.import_torch(1)
    families = sys.argv[1:] or ["llama2", "llama3", "qwen2"]
    worst_all = 0.0
    with torch.inference_mode():
        for fam in families:
            d = os.path.join(root, fam)
            meta = json.load(open(os.path.join(d, "reference.json")))
            ref = load_reference(torch, os.path.join(d, "reference.safetensors"))
            model = tb.build_model(torch, d, torch.float32, [])
            layers = model.model.layers
            errs = {}

            def err(name, got, want):
                e = float((got - want).abs().max() / want.abs().max().clamp_min(1e-6))
                errs[name] = max(errs.get(name, 0.0), e)

            for i, seq in enumerate(meta["sequences"]):
                acts = []
                hs = [l.register_forward_hook(lambda m, a, o: acts.append(o[0].clone())) for l in layers]
                logits = model(torch.tensor([seq]), None, "all")[0]
                for h in hs:
                    h.remove()
                err("logits", logits, ref[f"seq{i}.logits"])
                for L, a in enumerate(acts):
                    key = f"seq{i}.blocks.{L}.hook_resid_post"
                    if key in ref:
                        err("resid_post", a[0], ref[key])
                last = model(torch.tensor([seq]), model.new_cache(), "last")[0, -1]
                err("last-only logits", last, ref[f"seq{i}.logits"][-1])

            vec = ref["vec.resid"]

            def greedy(case, steer):
                c = meta["cases"][case]
                hs = [layers[1].register_forward_hook(lambda m, a, o: (o[0] + vec,) + tuple(o[1:]))] if steer else []
                cache = model.new_cache()
                logits = model(torch.tensor([c["prompt"]]), cache, "last")[:, -1]
                steps, toks = [logits[0]], []
                for _ in range(len(c["generated"]) - 1):
                    tok = logits.argmax(-1, keepdim=True)
                    toks.append(int(tok))
                    logits = model(tok, cache, "last")[:, -1]
                    steps.append(logits[0])
                toks.append(int(logits.argmax(-1)))
                for h in hs:
                    h.remove()
                err(case + " step logits", torch.stack(steps), ref[f"case.{case}.step_logits"])
                if toks != c["generated"]:
                    errs[case + " tokens"] = float("inf")

            greedy("greedy", False)
            greedy("greedy_steered", True)
            sc = meta["cases"]["steer_resid"]
            h = layers[1].register_forward_hook(lambda m, a, o: (o[0] + vec,) + tuple(o[1:]))
            err("steer_resid logits", model(torch.tensor([meta["sequences"][sc["sequence"]]]), None, "all")[0],
                ref["case.steer_resid.logits"])
            h.remove()
            worst = max(errs.values())
            worst_all = max(worst_all, worst)
            print(f"{fam:8s} " + ", ".join(f"{k} {v:.1e}" for k, v in errs.items()))
    print("max relative error", f"{worst_all:.1e}", "OK" if worst_all < 1e-4 else "MISMATCH")
    return 0 if worst_all < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
