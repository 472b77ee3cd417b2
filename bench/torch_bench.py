#!/usr/bin/python3
"""torch_bench.py - the PyTorch side of `make bench`: the same model, data,
optimizer and sampling as tinychar, written the way a few lines of plain
PyTorch would be (nn.Embedding, nn.Linear, tanh, F.cross_entropy,
torch.optim.AdamW, clip_grad_norm_, float32), timed on this machine.

Not a reference for correctness (tests/reference/ is): only the time matters,
so the weights start from PyTorch's own initialisation.

bench/bench.c starts it once with --serve and sends one command per line on
stdin; each answer is one line on stdout. A command can also be given on the
command line, for trying it by hand:

  torch_bench.py info
  torch_bench.py train FILE lines|stream T E H L B WARMUP STEPS MAX_SECONDS
  torch_bench.py gen   FILE lines|stream T E H L WARMUP CHARS MAX_SECONDS

train answers "ok vocab=V steps=N seconds=S loss=X": N timed steps took S
seconds, after WARMUP untimed ones; gen answers "ok vocab=V chars=N
seconds=S" for N characters generated at batch 1. Warm-up and timed phase
each stop early once past MAX_SECONDS (after at least one step), so a slow
BLAS cannot stall the benchmark. Errors answer "error MESSAGE".
"""
import ctypes
import math
import os
import sys
import time
import unicodedata

THREADS = 2


def fail_line(msg):
    return "error " + " ".join(str(msg).split())


try:
    import torch
    import torch.nn.functional as F
except Exception as e:  # torch missing or broken: say so, do not crash
    torch = None
    IMPORT_ERROR = "%s: %s" % (type(e).__name__, e)


class Corpus:
    """The text as token ids, tokenized as tokenizer/ does for ASCII/NFC text:
    stream mode: every distinct code point, sorted; lines mode: id 0 is the
    boundary token between non-empty lines, then the code points but '\\n'."""

    def __init__(self, path, lines, context):
        with open(path, "rb") as f:
            text = f.read().decode("utf-8")
        text = text.lstrip("\ufeff").replace("\r\n", "\n")
        text = unicodedata.normalize("NFC", text)
        T = context
        if lines:
            items = [s for s in text.split("\n") if s]
            chars = sorted(set("".join(items)))
            self.vocab = len(chars) + 1
            stoi = {c: i + 1 for i, c in enumerate(chars)}
            # Every (context, target) pair: each character of an item and the
            # closing boundary, with the context padded by boundary ids.
            xs, ys = [], []
            for s in items:
                ctx = [0] * T
                for c in s + "\0":
                    ix = stoi.get(c, 0)
                    xs.append(ctx)
                    ys.append(ix)
                    ctx = ctx[1:] + [ix]
            self.x = torch.tensor(xs, dtype=torch.long)
            self.y = torch.tensor(ys, dtype=torch.long)
            self.ids = None
            self.pad = 0
        else:
            chars = sorted(set(text))
            self.vocab = len(chars)
            stoi = {c: i for i, c in enumerate(chars)}
            self.ids = torch.tensor([stoi[c] for c in text], dtype=torch.long)
            self.offsets = torch.arange(T)
            self.pad = stoi.get("\n", 0)
        self.lines = lines
        self.context = T

    def batch(self, B):
        """B examples drawn uniformly at random: ctx (B, T), targets (B)."""
        if self.lines:
            ix = torch.randint(0, self.x.shape[0], (B,))
            return self.x[ix], self.y[ix]
        ix = torch.randint(0, self.ids.shape[0] - self.context, (B,))
        return self.ids[ix[:, None] + self.offsets], self.ids[ix + self.context]


class MLP(torch.nn.Module if torch else object):
    """Embedding lookup, L tanh hidden layers, linear output (model/model.h)."""

    def __init__(self, V, T, E, H, L):
        super().__init__()
        self.emb = torch.nn.Embedding(V, E)
        self.hidden = torch.nn.ModuleList(
            torch.nn.Linear(T * E if l == 0 else H, H) for l in range(L))
        self.out = torch.nn.Linear(H, V)

    def forward(self, ctx):
        x = self.emb(ctx).flatten(1)
        for layer in self.hidden:
            x = torch.tanh(layer(x))
        return self.out(x)


def make_optimizer(model):
    """AdamW as tinychar's train defaults: weight decay on the embedding and
    the weight matrices, not on the biases."""
    decay = [p for n, p in model.named_parameters() if not n.endswith("bias")]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias")]
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.01},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=3e-3, betas=(0.9, 0.999), eps=1e-8)


def learning_rate(step, total, warmup=100, lr=3e-3, min_lr=3e-4):
    """model/optim.h: linear warmup, then cosine decay to min_lr."""
    if step < warmup:
        return lr * (step + 1) / warmup
    p = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_lr + (lr - min_lr) * (1 + math.cos(math.pi * p)) / 2


_corpora = {}


def corpus(path, lines, T):
    key = (path, lines, T)
    if key not in _corpora:
        _corpora[key] = Corpus(path, lines, T)
    return _corpora[key]


class Clock:
    """Counts the warm-up and the timed steps, ending either phase early
    once it has run for max_seconds."""

    def __init__(self, warmup, steps, max_seconds):
        self.warmup, self.steps, self.max_seconds = warmup, steps, max_seconds
        self.timing = False
        self.done = 0
        self.t0 = time.perf_counter()

    def next(self):
        """True while there is another step to run."""
        now = time.perf_counter()
        limit = self.steps if self.timing else self.warmup
        if self.done >= limit or (self.done >= 1 and now - self.t0 > self.max_seconds):
            if self.timing:
                self.seconds = now - self.t0
                return False
            self.timing, self.done, self.t0 = True, 0, time.perf_counter()
        self.done += 1
        return True


def train(path, mode, T, E, H, L, B, warmup, steps, max_seconds):
    """Times training steps of the loop in train/train.c."""
    data = corpus(path, mode == "lines", T)
    torch.manual_seed(1337)
    model = MLP(data.vocab, T, E, H, L)
    opt = make_optimizer(model)
    total = warmup + steps
    loss_value = float("nan")
    clock = Clock(warmup, steps, max_seconds)
    step = 0
    while clock.next():
        for g in opt.param_groups:
            g["lr"] = learning_rate(step, total)
        ctx, targets = data.batch(B)
        logits = model(ctx)
        loss = F.cross_entropy(logits, targets)
        loss_value = loss.item()
        if not math.isfinite(loss_value):
            return fail_line("the loss became %r at step %d" % (loss_value, step))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
    return "ok vocab=%d steps=%d seconds=%.6f loss=%.4f" % (
        data.vocab, clock.done, clock.seconds, loss_value)


def generate(path, mode, T, E, H, L, warmup, chars, max_seconds):
    """Times `chars` characters of batch-1 generation as sample/sample.c does
    it: forward the last T ids, softmax, draw one id, slide the context; in
    lines mode the boundary id ends an item and the next starts afresh."""
    data = corpus(path, mode == "lines", T)
    torch.manual_seed(1337)
    model = MLP(data.vocab, T, E, H, L)
    model.eval()
    ctx = [data.pad] * T
    clock = Clock(warmup, chars, max_seconds)
    with torch.no_grad():
        while clock.next():
            logits = model(torch.tensor([ctx]))
            probs = F.softmax(logits, dim=1)
            ix = torch.multinomial(probs, num_samples=1).item()
            if data.lines and ix == 0:
                ctx = [data.pad] * T
            else:
                ctx = ctx[1:] + [ix]
    return "ok vocab=%d chars=%d seconds=%.6f" % (data.vocab, clock.done, clock.seconds)


def blas_libraries():
    """The BLAS shared libraries mapped into this process, and for OpenBLAS
    the kernel it chose (openblas_get_corename)."""
    paths = []
    with open("/proc/self/maps") as f:
        for line in f:
            p = line.split()[-1]
            base = os.path.basename(p)
            if ("blas" in base or "mkl" in base) and p not in paths:
                paths.append(p)
    out = []
    for p in paths:
        desc = p
        try:
            lib = ctypes.CDLL(p)
            if hasattr(lib, "openblas_get_corename"):
                lib.openblas_get_corename.restype = ctypes.c_char_p
                desc += " (OpenBLAS, kernel %s" % lib.openblas_get_corename().decode()
                if hasattr(lib, "openblas_get_num_threads"):
                    desc += ", %d threads" % lib.openblas_get_num_threads()
                desc += ")"
            elif os.path.realpath(p).startswith("/usr/lib/x86_64-linux-gnu/blas/"):
                desc += " (the netlib reference BLAS: unoptimized loops)"
        except OSError:
            pass
        out.append(desc)
    return out


def info():
    lines = []
    cfg = torch.__config__.show()
    blas_info = [s.strip() for s in cfg.replace(",", "\n").splitlines()
                 if "BLAS_INFO" in s or "CPU capability" in s or "MKL-DNN" in s
                 or "MKL" == s.strip()[:3]]
    lines.append("info torch %s, %d threads, OPENBLAS_CORETYPE=%s, OMP_WAIT_POLICY=%s"
                 % (torch.__version__, torch.get_num_threads(),
                    os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
                    os.environ.get("OMP_WAIT_POLICY", "(unset)")))
    lines.append("info build: " + "; ".join(blas_info))
    # Make sure BLAS is loaded and initialised before asking which it is.
    torch.ones(64, 64) @ torch.ones(64, 64)
    libs = blas_libraries()
    for d in libs or ["(no BLAS library mapped)"]:
        lines.append("info blas: " + d)
    if any("reference BLAS" in d for d in libs):
        lines.append("info WARNING: the PyTorch side is far from its best with the "
                     "reference BLAS; on Debian, `apt-get install libopenblas0-pthread` "
                     "makes torch use OpenBLAS (libblas.so.3 alternative)")
    return lines


def run(words):
    if not words:
        return fail_line("empty command")
    cmd, args = words[0], words[1:]
    try:
        if cmd == "info":
            return "\n".join(info() + ["ok"])
        if cmd == "train" and len(args) == 10:
            return train(args[0], args[1], *map(int, args[2:9]), float(args[9]))
        if cmd == "gen" and len(args) == 9:
            return generate(args[0], args[1], *map(int, args[2:8]), float(args[8]))
        return fail_line("unknown command or wrong arguments: %s" % " ".join(words))
    except Exception as e:
        return fail_line("%s: %s" % (type(e).__name__, e))


def main():
    if torch is None:
        print(fail_line("PyTorch is not available to %s: %s"
                        % (sys.executable, IMPORT_ERROR)), flush=True)
        return 1
    torch.set_num_threads(THREADS)
    if sys.argv[1:] == ["--serve"]:
        print("ready", flush=True)
        for line in sys.stdin:
            print(run(line.split()), flush=True)
        return 0
    reply = run(sys.argv[1:])
    print(reply)
    return 0 if reply.endswith("ok") or reply.startswith("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
