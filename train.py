"""Train the BiLSTM on MNIST; set its "not a digit" threshold; save weights, a metrics card and pictures of the run.

    python train.py                                # the defaults ("ours") produced weights/bilstm_mnist.pt
    python train.py --recipe quick --no-plots      # seconds, past the tutorial's 98.15% (bench/train_vs_seed)
    python train.py --recipe tutorial              # the tutorial's recipe, both bugs in: weights/tutorial_bilstm.pt

MNIST comes from $MNIST_DATA_DIR, ../shared/data or ./data (training/mnist.py), else torchvision downloads
it to ./data. Every training constant is a named field of training.recipe.Recipe, and the card records the
recipe whole. This file is the loop, the evaluation and what is written; training/ holds the data it learns
from (MNIST, augmentation, pens, negatives, styles) and the calibration of "not a digit".

Besides MNIST's digits, every batch carries a few blank images, a few drawings that are not digits
(training/negatives.py: shapes, doodles, letters, symbols, scribbles, partial strokes, drawn through the
canvas's own path once per run) taught the uniform softmax, and a few digits in styles MNIST lacks
(training/styles.py). The last MNIST training images are kept out of training: with drawings of
negatives.pool("calibration") they set the threshold on a score of the 10 logits below which a drawing is "not a digit"; the rule goes
into the checkpoint, and the rule's rates on calibration and on held-out data go into the card.

Writes, next to --out: the checkpoint (.pt), the metrics card (.json: accuracy, curves, "not a digit" rule
and rates, command, versions, sha256 of the weights), the training curves (_curves.png) and the confusion
matrix (_confusion.png). Every file is written to a temp file first and renamed, so an interrupted run
never leaves a broken one behind.

Unlike the tutorial this comes from (softmax inside the model before CrossEntropyLoss, classifier on
output[:, -1, :]), the loss is on logits and the classifier reads the final state of both directions.
The whole data set lives in one tensor on the device and is augmented there in batches, so data
preparation costs a small fraction of each step.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import sys
import time
from dataclasses import asdict, replace
from importlib.metadata import version
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from model import BiLSTM, logits_of, sha256_of
from training import negatives, styles
from training.augment import augment
from training.calibration import calibrate, not_a_digit_report
from training.mnist import load_mnist
from training.recipe import RECIPES, Recipe

DEFAULT_OUT = {"ours": "weights/bilstm_mnist.pt", "quick": "weights/quick_bilstm.pt",
               "tutorial": "weights/tutorial_bilstm.pt"}


def batches(images, labels, recipe: Recipe, generator):
    """-> (x (B, 28, 28), y (B,)) for one shuffled epoch: indexed from the one tensor, or, for the tutorial's
    recipe, through torchvision's per-sample DataLoader as it did (which is what its time per epoch was)."""
    if recipe.per_sample_loader:
        from torch.utils.data import DataLoader, TensorDataset

        loader = DataLoader(TensorDataset(images, labels), batch_size=recipe.batch_size, shuffle=True,
                            generator=torch.Generator().manual_seed(int(torch.randint(0, 2**31, (1,), generator=generator))))
        yield from loader
        return
    order = torch.randperm(len(images), generator=generator, device=images.device)
    for start in range(0, len(images), recipe.batch_size):
        index = order[start : start + recipe.batch_size]
        x = images[index]
        yield (augment(x, generator, recipe) if recipe.augment else x), labels[index]


def train_epoch(model, images, labels, optimizer, scheduler, recipe: Recipe, generator, epoch, negatives=None,
                styled=None):
    """One pass over the shuffled training set -> (mean loss, accuracy).

    negatives: (M, 28, 28) non-digit drawings (negatives.pool), or None; a few of them join every batch.
    styled: ((S, 28, 28) digits, (S,) labels) in styles MNIST lacks (styles.pool), or None; the same.
    """
    model.train()
    blanks = recipe.batch_size * recipe.blanks_per_32 // 32
    extra = recipe.batch_size * recipe.negatives_per_32 // 32 if negatives is not None and len(negatives) else 0
    more = recipe.batch_size * recipe.styled_per_32 // 32 if styled is not None and len(styled[0]) else 0
    device = images.device
    total_loss, correct, seen = 0.0, 0, 0
    steps = math.ceil(len(images) / recipe.batch_size)
    # disable=None: a live bar in a terminal, nothing when the output goes to a file or CI log
    bar = tqdm(batches(images, labels, recipe, generator), total=steps, desc=f"epoch {epoch}/{recipe.epochs}",
               unit="batch", leave=False, dynamic_ncols=True, disable=None)
    for step, (x, y) in enumerate(bar):
        if more:
            pick = torch.randint(len(styled[0]), (more,), generator=generator, device=device)
            x = torch.cat([x, augment(styled[0][pick], generator, recipe) if recipe.augment else styled[0][pick]])
            y = torch.cat([y, styled[1][pick]])
        # A few blank images per batch, taught to mean "no idea" (uniform softmax): the demo's row
        # view re-runs the model on partly blanked images, and nothing must look like a digit.
        # And a few drawings that are not digits, taught the same (outlier exposure).
        unsure = [x.new_zeros(blanks, 28, 28)]
        if extra:
            drawn = negatives[torch.randint(len(negatives), (extra,), generator=generator, device=device)]
            unsure.append(augment(drawn, generator, recipe) if recipe.augment else drawn)
        with autocast(recipe, device):
            logits = model(torch.cat([x, *unsure])).float()  # (B + blanks + negatives, 10)
        scores = logits.softmax(1) if recipe.softmax_before_loss else logits  # the tutorial's bug 1
        loss = F.cross_entropy(scores[: len(y)], y, label_smoothing=recipe.label_smoothing)
        if blanks:
            blank = scores[len(y) : len(y) + blanks]
            loss = loss + F.cross_entropy(blank, torch.full_like(blank, 0.1)) * blanks / len(y)
        if extra:
            drawn = scores[len(y) + blanks :]
            loss = loss + F.cross_entropy(drawn, torch.full_like(drawn, 0.1)) * extra * recipe.negative_weight / len(y)
        logits = logits[: len(y)]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if recipe.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), recipe.grad_clip)
        optimizer.step()
        scheduler.step()
        total_loss += loss.item() * len(y)
        correct += (logits.argmax(1) == y).sum().item()
        seen += len(y)
        if step % 20 == 0:
            bar.set_postfix(loss=f"{total_loss / seen:.4f}", acc=f"{correct / seen:.4f}")
    return total_loss / seen, correct / seen


def autocast(recipe: Recipe, device: torch.device):
    """The recipe's precision for the forward pass where the hardware does it natively, else float32."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision(recipe, device) == "bfloat16")


def precision(recipe: Recipe, device: torch.device) -> str:
    """What autocast() really runs: "bfloat16" needs AVX512-BF16 or AMX on a CPU, or a bf16-capable GPU."""
    if recipe.autocast != "bfloat16":
        return "float32"
    if device.type == "cpu":
        return "bfloat16" if torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported() \
            else "float32"
    if device.type == "cuda":
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float32"
    return "float32"


def evaluate(model, images, labels, batch_size: int = 2000):
    """-> (mean loss, accuracy, predictions (N,)) on clean images."""
    logits = logits_of(model, images, batch_size)
    predictions = logits.argmax(1)
    loss = F.cross_entropy(logits, labels).item()
    return loss, (predictions == labels).float().mean().item(), predictions


def pick_device(name: str) -> torch.device:
    """"auto": the machine's accelerator (CUDA, MPS, XPU, ...) if torch sees one, else the CPU."""
    if name != "auto":
        return torch.device(name)
    accelerator = getattr(torch, "accelerator", None)  # torch >= 2.6
    if accelerator is not None:
        return accelerator.current_accelerator(check_available=True) or torch.device("cpu")
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def atomic_write(path: Path, write) -> None:
    """Call write(temp_path), then rename the temp file over path (atomic on one file system)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        write(temp)
        os.replace(temp, path)
    finally:
        if temp.exists():
            temp.unlink()


def save_checkpoint(model: BiLSTM, path: Path, not_a_digit: dict | None = None) -> None:
    """Write the checkpoint model.load_model reads: constructor args and, when calibrated, the "not a digit"
    rule {"score": str, "threshold": float} (plain types, for weights_only loading), and the state_dict."""
    model_args = {"hidden": model.hidden, "layers": model.layers}
    if model.readout != "final_states" or not model.normalize:  # the tutorial's model
        model_args.update(readout=model.readout, normalize=model.normalize)
    checkpoint = {"model_args": model_args,
                  "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}
    if not_a_digit is not None:
        checkpoint["not_a_digit"] = {"score": str(not_a_digit["score"]), "threshold": float(not_a_digit["threshold"])}
    atomic_write(path, lambda temp: torch.save(checkpoint, temp))


def save_plots(history: list[dict], confusion: np.ndarray, stem: Path) -> list[Path]:
    """Training curves and confusion matrix as PNGs next to the weights (matplotlib, training only)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.8), dpi=110)
    ax_loss.plot(epochs, [h["train_loss"] for h in history], label="train (augmented, smoothed; with non-digits)")
    ax_loss.plot(epochs, [h["test_loss"] for h in history], label="test")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="Loss")
    ax_acc.plot(epochs, [100 * h["train_acc"] for h in history], label="train (augmented)")
    ax_acc.plot(epochs, [100 * h["test_acc"] for h in history], label="test")
    ax_acc.axhline(98.15, color="gray", linestyle="--", linewidth=1, label="tutorial, 30 epochs (98.15%)")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy", ylim=(97, 100))
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    curves = stem.with_name(stem.name + "_curves.png")
    atomic_write(curves, lambda p: fig.savefig(p, format="png"))
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5.4, 4.8), dpi=110)
    off_diagonal = confusion.copy()
    np.fill_diagonal(off_diagonal, 0)
    ax.imshow(off_diagonal, cmap="Reds")
    for true in range(10):
        for pred in range(10):
            dark = off_diagonal[true, pred] > 0.6 * max(1, off_diagonal.max())  # white text on dark cells
            ax.text(pred, true, str(confusion[true, pred]), ha="center", va="center", fontsize=7,
                    color="gray" if true == pred else "white" if dark else "black")
    ax.set(xticks=range(10), yticks=range(10), xlabel="predicted", ylabel="true digit",
           title=f"MNIST test confusion ({int(confusion.trace())}/{int(confusion.sum())} right)")
    fig.tight_layout()
    matrix = stem.with_name(stem.name + "_confusion.png")
    atomic_write(matrix, lambda p: fig.savefig(p, format="png"))
    plt.close(fig)
    return [curves, matrix]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; the defaults are what produced the committed weights."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None,
                        help="MNIST root; default: $MNIST_DATA_DIR, ../shared/data or ./data (downloaded there if absent)")
    parser.add_argument("--recipe", choices=sorted(RECIPES), default="ours",
                        help="ours (the committed weights), quick (seconds) or tutorial (its recipe, both bugs in)")
    parser.add_argument("--epochs", type=int, default=None, help="default: the recipe's (ours 40, quick 2, tutorial 30)")
    parser.add_argument("--batch-size", type=int, default=None, help="default: the recipe's (ours 128, quick 256, tutorial 32)")
    parser.add_argument("--lr", type=float, default=None, help="(peak) learning rate; default: the recipe's")
    parser.add_argument("--weight-decay", type=float, default=None, help="default: the recipe's")
    parser.add_argument("--styled", type=int, default=None, help="digits in other styles made; default: the recipe's")
    parser.add_argument("--negatives", type=int, default=None, help="non-digit drawings made; default: the recipe's")
    parser.add_argument("--report-negatives", type=int, default=None,
                        help="held-out non-digits scored for the card; default: the recipe's")
    parser.add_argument("--report-drawn", type=int, default=None,
                        help="MNIST test digits redrawn as canvas ink scored for the card; default: the recipe's")
    parser.add_argument("--hidden", type=int, default=64, help="LSTM hidden size per direction (64: 49,418 parameters)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", help="auto (cuda, mps, cpu), or a torch device name")
    parser.add_argument("--threads", type=int, default=0,
                        help="CPU threads for torch; default: torch's (one per core). On a CPU that other work is "
                             "using, 1: two threads beside another busy process took 713 s for a 5 s epoch here")
    parser.add_argument("--train-limit", type=int, default=0, help="use only the first N training images (0: all)")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG pictures")
    parser.add_argument("--out", default=None, help="default: weights/bilstm_mnist.pt (quick: quick_bilstm.pt, tutorial: tutorial_bilstm.pt)")
    return parser.parse_args(argv)


OVERRIDES = ("epochs", "batch_size", "lr", "weight_decay", "styled", "negatives", "report_negatives", "report_drawn")


def recipe_of(args: argparse.Namespace) -> Recipe:
    """The named recipe with the command line's overrides."""
    overrides = {name: getattr(args, name) for name in OVERRIDES if getattr(args, name) is not None}
    return replace(RECIPES[args.recipe], **overrides)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    recipe = recipe_of(args)
    out = Path(args.out or DEFAULT_OUT[args.recipe])

    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    generator = torch.Generator(device=device).manual_seed(args.seed)
    train_x, train_y = load_mnist(args.data_dir, train=True, device=device)
    # The last calibration_digits training images set the "not a digit" threshold and are never trained on.
    keep = len(train_x) - recipe.calibration_digits
    calibration_digits = (train_x[keep:] * 255).round().to(torch.uint8).cpu().numpy()
    train_x, train_y = train_x[:keep], train_y[:keep]
    if args.train_limit:
        train_x, train_y = train_x[: args.train_limit], train_y[: args.train_limit]
    test_x, test_y = load_mnist(args.data_dir, train=False, device=device)
    pool, styled = None, None
    if recipe.styled:
        pool_started = time.perf_counter()
        styled = tuple(torch.from_numpy(a).to(device) for a in styles.pool(recipe.styled, args.seed))
        print(f"{len(styled[0]):,} digits in styles MNIST lacks drawn in {time.perf_counter() - pool_started:.1f}s")
    if recipe.negatives:
        pool_started = time.perf_counter()
        pool = torch.from_numpy(negatives.pool("train", recipe.negatives, args.seed)[0]).to(device)
        print(f"{len(pool):,} non-digit drawings made in {time.perf_counter() - pool_started:.1f}s")

    model = BiLSTM(hidden=args.hidden, readout=recipe.readout, normalize=recipe.normalize).to(device)
    parameters = sum(p.numel() for p in model.parameters())
    print(f"BiLSTM(hidden={args.hidden}, readout={recipe.readout}), recipe {args.recipe}: {parameters:,} parameters | "
          f"{len(train_x):,} train, {len(test_x):,} test images | device {device} ({precision(recipe, device)}) | "
          f"{torch.get_num_threads()} CPU threads")
    if recipe.optimizer == "adamw":
        optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    steps = recipe.epochs * math.ceil(len(train_x) / recipe.batch_size)
    if recipe.schedule == "one-cycle":
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=recipe.lr, total_steps=steps,
                                                        pct_start=recipe.warmup_fraction)
    else:
        scheduler = torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0)

    history, started = [], time.perf_counter()
    for epoch in range(1, recipe.epochs + 1):
        epoch_start = time.perf_counter()
        finishing = epoch > recipe.epochs - recipe.plain_finish
        this_epoch = replace(recipe, elastic_fraction=0.0, coarse_fraction=0.0) if finishing else recipe
        train_loss, train_acc = train_epoch(model, train_x, train_y, optimizer, scheduler, this_epoch, generator,
                                            epoch, pool, None if finishing else styled)
        train_seconds = time.perf_counter() - epoch_start
        test_loss, test_acc, predictions = evaluate(model, test_x, test_y)
        history.append(dict(epoch=epoch, train_loss=round(train_loss, 5), train_acc=round(train_acc, 5),
                            test_loss=round(test_loss, 5), test_acc=round(test_acc, 5),
                            train_seconds=round(train_seconds, 2),
                            elapsed_seconds=round(time.perf_counter() - started, 2)))
        print(f"epoch {epoch:2d}/{recipe.epochs} | train loss {train_loss:.4f} acc {100 * train_acc:.2f}% | "
              f"test loss {test_loss:.4f} acc {100 * test_acc:.2f}% | {train_seconds:.1f}s "
              f"({history[-1]['elapsed_seconds']:.0f}s total)", flush=True)
    wall_seconds = time.perf_counter() - started

    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (test_y.cpu().numpy(), predictions.cpu().numpy()), 1)
    errors = int(len(test_y) - confusion.trace())
    print(f"test accuracy {100 * test_acc:.2f}% ({errors} errors in {len(test_y):,}) after {wall_seconds:.0f}s")

    rule, held_out = None, None
    if recipe.calibration_digits and recipe.calibration_negatives:
        rule = calibrate(model, calibration_digits, recipe, args.seed)
        held_out = not_a_digit_report(model, rule, (test_x * 255).round().to(torch.uint8).cpu().numpy(),
                                      test_y.cpu().numpy(), recipe.report_negatives, recipe.report_drawn)
        print(f"not a digit: {rule['score']} < {rule['threshold']:.4f} | calibration: flags "
              f"{100 * rule['calibrated_on']['negatives_flagged']:.1f}% of non-digits, "
              f"{100 * rule['calibrated_on']['digits_flagged']:.2f}% of digits "
              f"({100 * rule['calibrated_on']['digits_drawn_as_ink_flagged']:.2f}% drawn) | held out: "
              f"{100 * held_out.get('held_out_negatives_flagged', float('nan')):.1f}% of non-digits, "
              f"{100 * held_out['mnist_test_flagged']:.2f}% of MNIST test, "
              f"{100 * held_out.get('drawn_test_flagged', float('nan')):.2f}% of it drawn; "
              f"AUROC {held_out.get('auroc', float('nan')):.4f}")
    save_checkpoint(model, out, rule)

    card = {
        "model": f"BiLSTM(hidden={args.hidden}, layers=1, readout={recipe.readout!r}, normalize={recipe.normalize})",
        "parameters": parameters,
        "test_accuracy": round(test_acc, 5),
        "test_errors": errors,
        "test_images": len(test_y),
        "train_images": len(train_x),
        "epochs": history,
        "confusion_matrix": confusion.tolist(),
        "not_a_digit": None if rule is None else {**rule, "held_out": held_out},
        "wall_seconds": round(wall_seconds, 1),
        "device": str(device) if device.type != "cpu" else f"cpu ({platform.processor() or platform.machine()}, "
                                                            f"{torch.get_num_threads()} threads)",
        "precision": precision(recipe, device),
        "command": "python " + shlex.join(["train.py", *(sys.argv[1:] if argv is None else argv)]),
        "args": vars(args),
        "recipe": {"name": args.recipe, **asdict(recipe)},
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "torchvision": version("torchvision"), "numpy": np.__version__},
        "weights": out.name,
        "sha256": sha256_of(out),
    }
    atomic_write(out.with_suffix(".json"), lambda p: p.write_text(json.dumps(card, indent=1) + "\n"))
    written = [out, out.with_suffix(".json")]
    if not args.no_plots:
        written += save_plots(history, confusion, out.with_suffix(""))
    print("wrote " + ", ".join(str(p) for p in written))
    return card


if __name__ == "__main__":
    main()
