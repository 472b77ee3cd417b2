#!/usr/bin/python3
"""tinychar_ref.py - an independent PyTorch reference for tinychar's model,
written from the maths (model/model.h, CHECKPOINT.md), not from the C code:

    x      = concat(embedding[ctx[0]], ..., embedding[ctx[T-1]])    (B, T*E)
    h_0    = tanh(x W_0^T + b_0),  h_l = tanh(h_{l-1} W_l^T + b_l)   (B, H)
    logits = h_{L-1} W_out^T + b_out                                 (B, V)
    loss   = mean over the batch of cross-entropy(softmax(logits), target)

in float64, with autograd for the gradients, torch.optim.AdamW / SGD for the
updates, torch.nn.utils.clip_grad_norm_ for clipping, and the warmup + cosine
learning-rate schedule of model/optim.h. The model comes from a tinychar
checkpoint, read with tcformat.py from its documented bytes only.

Also: the mean loss over a text file (the reference for `tinychar eval`),
tokenized from the checkpoint's vocabulary and mode, and the writer of
fixture.txt (`--write-fixture`, what `make reference-fixture` runs).

Needs Debian's python3-torch; run with /usr/bin/python3.
"""
import argparse
import math
import os
import sys
import unicodedata

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tcformat  # noqa: E402

DTYPE = torch.float64


class TinyChar(torch.nn.Module):
    """The MLP language model; parameters initialised from a checkpoint."""

    def __init__(self, ck):
        super().__init__()
        T, E, H, L, V = (ck["context"], ck["embed"], ck["hidden"], ck["layers"],
                         ck["vocab"])
        self.context, self.embed = T, E
        p = {name: torch.tensor(vals, dtype=DTYPE)
             for name, vals in ck["params"].items()}
        self.embedding = torch.nn.Parameter(p["embedding"].view(V, E))
        self.hidden = torch.nn.ModuleList()
        for l in range(L):
            layer = torch.nn.Linear(T * E if l == 0 else H, H, dtype=DTYPE)
            with torch.no_grad():
                layer.weight.copy_(p["hidden%d.weight" % l].view(H, -1))
                layer.bias.copy_(p["hidden%d.bias" % l])
            self.hidden.append(layer)
        self.output = torch.nn.Linear(H, V, dtype=DTYPE)
        with torch.no_grad():
            self.output.weight.copy_(p["output.weight"].view(V, H))
            self.output.bias.copy_(p["output.bias"])

    def forward(self, ctx):
        """ctx (B, T) token ids -> logits (B, V)."""
        x = F.embedding(ctx, self.embedding).flatten(1)  # (B, T*E), oldest first
        for layer in self.hidden:
            x = torch.tanh(layer(x))
        return self.output(x)

    def tensors(self):
        """(checkpoint name, parameter) in checkpoint storage order."""
        out = [("embedding", self.embedding)]
        for l, layer in enumerate(self.hidden):
            out += [("hidden%d.weight" % l, layer.weight),
                    ("hidden%d.bias" % l, layer.bias)]
        return out + [("output.weight", self.output.weight),
                      ("output.bias", self.output.bias)]


def learning_rate(ck, step):
    """model/optim.h: linear warmup, then cosine decay to min_lr over the
    rest of the planned steps (step is 0-based)."""
    lr, min_lr, warmup, total = ck["lr"], ck["min_lr"], ck["warmup"], ck["steps_total"]
    if step < warmup:
        return lr * (step + 1) / warmup
    if total == 0:
        raise ValueError("the reference trains step-planned runs only")
    p = (step - warmup) / (total - warmup) if total > warmup else 0.0
    p = min(max(p, 0.0), 1.0)
    return min_lr + (lr - min_lr) * (1 + math.cos(math.pi * p)) / 2


def make_optimizer(model, ck):
    """Weight decay on the matrices (embedding and weights), none on biases;
    moments restored from the checkpoint when it continues a run."""
    named = model.tensors()
    matrices = [p for _, p in named if p.dim() == 2]
    vectors = [p for _, p in named if p.dim() == 1]
    groups = [{"params": matrices, "weight_decay": ck["weight_decay"]},
              {"params": vectors, "weight_decay": 0.0}]
    if ck["optimizer_name"] == "adamw":
        opt = torch.optim.AdamW(groups, lr=ck["lr"], betas=(ck["beta1"], ck["beta2"]),
                                eps=ck["eps"])
    else:
        opt = torch.optim.SGD(groups, lr=ck["lr"], momentum=ck["momentum"])
    moments = ck["moments"]
    if ck["step"] == 0:
        if any(v != 0.0 for mom in moments for t in mom.values() for v in t):
            raise ValueError("a checkpoint at step 0 holds non-zero moments")
        return opt
    for name, p in named:
        def load(j):
            return torch.tensor(moments[j][name], dtype=DTYPE).view_as(p)
        if ck["optimizer_name"] == "adamw":
            opt.state[p] = {"step": torch.tensor(float(ck["step"])),
                            "exp_avg": load(0), "exp_avg_sq": load(1)}
        else:
            opt.state[p] = {"momentum_buffer": load(0)}
    return opt


def optimizer_moments(model, opt, ck):
    """The optimizer state in the checkpoint's order: [m, v] or [buffer]."""
    keys = ["exp_avg", "exp_avg_sq"] if ck["optimizer_name"] == "adamw" \
        else ["momentum_buffer"]
    return [{name: opt.state[p][k].flatten().tolist() for name, p in model.tensors()}
            for k in keys]


def run(ck, batches):
    """Forward and backward on batches[0] from the checkpoint's parameters,
    then one training step per batch. batches: [(ctx (B, T), targets (B))] as
    lists. Returns a dict of plain lists: logits, loss, grad {tensor}, lr,
    norm (before clipping), losses, and the parameters and moments after."""
    model = TinyChar(ck)
    opt = make_optimizer(model, ck)
    params = [p for _, p in model.tensors()]
    out = {"lr": [], "norm": [], "losses": []}
    for s, (ctx, targets) in enumerate(batches):
        step = ck["step"] + s
        lr = learning_rate(ck, step)
        for group in opt.param_groups:
            group["lr"] = lr
        opt.zero_grad()
        logits = model(torch.tensor(ctx, dtype=torch.long))
        loss = F.cross_entropy(logits, torch.tensor(targets, dtype=torch.long))
        loss.backward()
        if s == 0:
            out["logits"] = logits.detach().flatten().tolist()
            out["loss"] = loss.item()
            out["grad"] = {name: p.grad.flatten().tolist()
                           for name, p in model.tensors()}
        if ck["clip"] > 0:
            norm = torch.nn.utils.clip_grad_norm_(params, max_norm=ck["clip"])
        else:
            norm = torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in params]))
        opt.step()
        out["lr"].append(lr)
        out["norm"].append(norm.item())
        out["losses"].append(loss.item())
    out["after"] = {name: p.detach().flatten().tolist() for name, p in model.tensors()}
    out["moments"] = optimizer_moments(model, opt, ck)
    return out


# ---- the loss over a text file (`tinychar eval`) -----------------------------

def encode_file(path, ck):
    """The file's token ids as tinychar reads it: a leading byte order mark
    dropped, CRLF read as LF, NFC when the checkpoint says so; char tokenizer:
    one id per code point, byte tokenizer: one per byte. Returns the ids, or
    in lines mode a list of the non-empty lines' ids."""
    with open(path, "rb") as f:
        raw = f.read()
    vocab = ck["vocab_ids"]
    id_of = {cp: i for i, cp in enumerate(vocab) if cp >= 0}
    if ck["tokenizer"] == 0:
        text = raw.decode("utf-8")
        if text.startswith("\ufeff"):
            text = text[1:]
        text = text.replace("\r\n", "\n")
        if ck["normalize"]:
            text = unicodedata.normalize("NFC", text)
        units = [ord(ch) for ch in text]
    else:
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        units = list(raw.replace(b"\r\n", b"\n"))
    newline = ord("\n")
    if ck["mode"] == 0:
        return [id_of[u] for u in units]
    lines, cur = [], []
    for u in units + [newline]:
        if u == newline:
            if cur:
                lines.append([id_of[c] for c in cur])
            cur = []
        else:
            cur.append(u)
    return lines


def examples(ids, ck):
    """(contexts, targets) of every example. Stream: the target at each
    position p >= T with the T ids before it. Lines: each line framed by the
    boundary token 0, read with T boundary tokens of padding before it, so
    the first context is all 0 and the last target is 0."""
    T = ck["context"]
    ctxs, tgts = [], []
    if ck["mode"] == 0:
        for p in range(T, len(ids)):
            ctxs.append(ids[p - T:p])
            tgts.append(ids[p])
        return ctxs, tgts
    for line in ids:
        seq = [0] * T + line + [0]
        for p in range(T, len(seq)):
            ctxs.append(seq[p - T:p])
            tgts.append(seq[p])
    return ctxs, tgts


def mean_loss(ck, path):
    """Mean cross-entropy (nats per character) of the checkpoint's model
    over every example of the file."""
    ctxs, tgts = examples(encode_file(path, ck), ck)
    model = TinyChar(ck)
    with torch.no_grad():
        logits = model(torch.tensor(ctxs, dtype=torch.long))
        return F.cross_entropy(logits, torch.tensor(tgts, dtype=torch.long)).item(), len(tgts)


def greedy_sample(ck, prompt, length):
    """What `tinychar sample --temperature 0` must print for one sample: the
    prompt, then the most likely next character again and again. Stream
    models start from a context of newlines (or of token 0 without a newline
    in the vocabulary) and print `length` characters; lines models start
    from boundary tokens and stop at the boundary token or after `length`."""
    T = ck["context"]
    vocab = ck["vocab_ids"]
    id_of = {cp: i for i, cp in enumerate(vocab) if cp >= 0}
    if ck["mode"] == 0:
        pad = id_of.get(ord("\n"), 0)
    else:
        pad = 0
    ctx = [pad] * T + [id_of[ord(ch)] for ch in prompt]
    out = prompt
    model = TinyChar(ck)
    with torch.no_grad():
        for _ in range(length):
            logits = model(torch.tensor([ctx[-T:]], dtype=torch.long))[0]
            nxt = int(torch.argmax(logits))  # the first maximum, like tinychar
            if ck["mode"] == 1 and nxt == 0:
                break
            out += chr(vocab[nxt])
            ctx.append(nxt)
    return out


# ---- the fixture --------------------------------------------------------------

FIXTURE_SEED = 20240601
FIXTURE_CFG = dict(context=3, embed=2, hidden=3, layers=2, batch=4, steps=5, lines=1)
# Sorted code points; -1 is the boundary token (lines mode): a, b, ß, é, 中, 😀.
FIXTURE_VOCAB = [-1, 0x61, 0x62, 0xDF, 0xE9, 0x4E2D, 0x1F600]
FIXTURE_OPT = {
    "adamw": dict(lr=0.05, min_lr=0.005, warmup=2, steps_total=6, weight_decay=0.1,
                  clip=0.0, beta1=0.9, beta2=0.999, eps=1e-8, momentum=0.0),
    "sgd": dict(lr=0.2, min_lr=0.02, warmup=1, steps_total=5, weight_decay=0.05,
                clip=0.0, beta1=0.9, beta2=0.999, eps=1e-8, momentum=0.9),
}


def fixture_case():
    """Parameters and lines-mode batches from FIXTURE_SEED, as float32 values
    (what a checkpoint can hold), and the checkpoint dicts for both
    optimizers. The AdamW clip is set below the first step's gradient norm,
    so clipping is active there."""
    g = torch.Generator().manual_seed(FIXTURE_SEED)
    c = FIXTURE_CFG
    V = len(FIXTURE_VOCAB)
    shapes = tcformat.tensor_shapes(c["context"], c["embed"], c["hidden"],
                                    c["layers"], V)
    params = {}
    for name, rows, cols in shapes:
        scale = 1.0 if name == "embedding" else (
            0.3 if name.endswith("bias") else 1.5 / math.sqrt(cols))
        x = torch.randn(rows * cols, generator=g, dtype=DTYPE) * scale
        params[name] = x.float().double().tolist()  # exactly representable
    B, T = c["batch"], c["context"]
    batches = []
    for _ in range(c["steps"]):
        ctx = []
        for _ in range(B):
            pad = int(torch.randint(0, T + 1, (1,), generator=g))
            ids = torch.randint(1, V, (T - pad,), generator=g).tolist()
            ctx.append([0] * pad + ids)
        targets = torch.randint(0, V, (B,), generator=g).tolist()
        batches.append((ctx, targets))
    cks = {}
    for name, opt in FIXTURE_OPT.items():
        ck = dict(context=c["context"], embed=c["embed"], hidden=c["hidden"],
                  layers=c["layers"], vocab=V, tokenizer=0, mode=1, normalize=1,
                  step=0, optimizer_name=name, params=params, moments=[],
                  vocab_ids=FIXTURE_VOCAB, **opt)
        cks[name] = ck
    first = run(cks["adamw"], batches[:1])["norm"][0]
    cks["adamw"]["clip"] = float("%.3g" % (0.6 * first))
    return cks, batches, shapes


def write_fixture(path):
    cks, batches, shapes = fixture_case()
    res = {name: run(ck, batches) for name, ck in cks.items()}
    c = FIXTURE_CFG
    B, T = c["batch"], c["context"]
    out = [
        "# tinychar reference fixture, version 1. Written by `make reference-fixture`\n",
        "# (tests/reference/tinychar_ref.py --write-fixture) with PyTorch %s in\n"
        % torch.__version__,
        "# float64, from seed %d: random float32 parameters of a 2-layer model,\n"
        % FIXTURE_SEED,
        "# 5 random lines-mode batches (boundary id 0 pads the contexts), and what\n",
        "# the reference computes from them: logits, loss and gradients on batch 0,\n",
        "# then 5 AdamW steps (clipping active) and, separately, 5 SGD steps, one\n",
        "# per batch. `make reference` feeds the inputs to tests/ref_dump\n",
        "# (fixture=...) and compares its output to the expect.* records, with or\n",
        "# without torch. Do not edit; regenerate it only on purpose.\n",
        "# Format: see tests/reference/tcformat.py.\n",
    ]
    for key in ("context", "embed", "hidden", "layers", "batch", "lines", "steps"):
        out.append(tcformat.format_record("i", key, (1,), [c[key]]))
    out.append(tcformat.format_record("i", "vocab_size", (1,), [len(FIXTURE_VOCAB)]))
    out.append(tcformat.format_record("i", "seed", (1,), [FIXTURE_SEED]))
    out.append(tcformat.format_record("i", "vocab", (len(FIXTURE_VOCAB),), FIXTURE_VOCAB))
    for name, ck in cks.items():
        for key in ("lr", "min_lr", "warmup", "steps_total", "weight_decay", "clip",
                    "beta1", "beta2", "eps", "momentum"):
            out.append(tcformat.format_record("d", "%s.%s" % (name, key), (1,), [ck[key]]))
    params = cks["adamw"]["params"]
    for name, rows, cols in shapes:
        out.append(tcformat.format_record("f", "param." + name, (rows, cols), params[name]))
    for k, (ctx, targets) in enumerate(batches):
        out.append(tcformat.format_record("i", "batch%d.ctx" % k, (B, T),
                                          [i for row in ctx for i in row], per_line=12))
        out.append(tcformat.format_record("i", "batch%d.targets" % k, (B,), targets))
    # Results with 10 significant digits: 1e5 times finer than the tolerances,
    # and the file stays small. The learning rates are compared to 1e-12, so
    # they keep all 17.
    first = res["adamw"]
    V = len(FIXTURE_VOCAB)
    short = "%.10g"
    out.append(tcformat.format_record("d", "expect.logits", (B, V), first["logits"],
                                      fmt=short))
    out.append(tcformat.format_record("d", "expect.loss", (1,), [first["loss"]]))
    for name, rows, cols in shapes:
        out.append(tcformat.format_record("d", "expect.grad." + name, (rows, cols),
                                          first["grad"][name], fmt=short))
    for opt_name, r in res.items():
        for key in ("lr", "norm", "losses"):
            out.append(tcformat.format_record("d", "expect.%s.%s" % (opt_name, key),
                                              (len(r[key]),), r[key],
                                              per_line=3 if key == "lr" else 8,
                                              fmt=None if key == "lr" else short))
        for name, rows, cols in shapes:
            out.append(tcformat.format_record("d", "expect.%s.after.%s" % (opt_name, name),
                                              (rows, cols), r["after"][name], fmt=short))
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(out))
    print("wrote %s (%d bytes)" % (path, os.path.getsize(path)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write-fixture", metavar="FILE",
                    help="write the fixture (what `make reference-fixture` does)")
    ap.add_argument("--eval", nargs=2, metavar=("CKPT", "FILE"),
                    help="print the mean loss of CKPT's model over FILE")
    a = ap.parse_args()
    if a.write_fixture:
        write_fixture(a.write_fixture)
    elif a.eval:
        loss, n = mean_loss(tcformat.read_checkpoint(a.eval[0]), a.eval[1])
        print("loss %.12g nats/char over %d characters" % (loss, n))
    else:
        ap.print_help()
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
