"""The tutorial's recipe against our quick run, side by side on the same machine: how much sooner the quick
run's whole command has a model past the tutorial's final 98.15% test accuracy.

    python -m bench.train_vs_seed                   # the quick run, then the tutorial until it first reaches 98.15%
    python -m bench.train_vs_seed --seed-epochs 30  # the tutorial's full run whatever it reaches

Ours is the README's quick command, `python train.py --recipe quick --no-plots`, run as its own process and timed
from outside: the whole command's wall time, Python start, imports, data loading, making its non-digit
drawings, training, calibration and writing included. Its card says its test accuracy after each epoch.
The tutorial's recipe is reimplemented faithfully, bugs included: per-sample torchvision DataLoader
(ToTensor, batch 32, shuffled), the same BiLSTM but with a softmax inside the model whose output goes
into CrossEntropyLoss, the classifier reading output[:, -1, :], Adam at 1e-3; its time is training
seconds only (evaluation excluded), summed over the epochs until the test accuracy first reaches 98.15%.
(The committed weights/tutorial_bilstm.pt is `python train.py --recipe tutorial`: the same recipe, its
data as one tensor.)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn

import train
from training.mnist import mnist_dir

TARGET = 0.9815  # the tutorial's reported accuracy after 30 epochs


class TutorialBiLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(28, 64, 1, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        output, _ = self.lstm(x)  # (N, 28, 128)
        return torch.softmax(self.fc(output[:, -1, :]), dim=1)  # bug 1: backward half saw only row 28; bug 2: softmax


def run_tutorial(data_dir: str, epochs: int, seed: int, stop_at_target: bool = True) -> list[tuple[float, float]]:
    """-> [(training seconds, test accuracy)] per epoch, until `epochs` or (stop_at_target) the first at TARGET."""
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    torch.manual_seed(seed)
    to_tensor = transforms.ToTensor()
    data_dir = data_dir or mnist_dir()
    train_set = datasets.MNIST(data_dir, train=True, download=True, transform=to_tensor)
    test_set = datasets.MNIST(data_dir, train=False, download=True, transform=to_tensor)
    train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=1000)
    model = TutorialBiLSTM()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    results = []
    for epoch in range(1, epochs + 1):
        model.train()
        start = time.perf_counter()
        for images, labels in train_loader:
            loss = criterion(model(images.view(-1, 28, 28)), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        seconds = time.perf_counter() - start
        model.eval()
        correct = 0
        with torch.no_grad():
            for images, labels in test_loader:
                correct += (model(images.view(-1, 28, 28)).argmax(1) == labels).sum().item()
        results.append((seconds, correct / len(test_set)))
        print(f"  tutorial epoch {epoch:2d}: {seconds:5.1f}s, test {100 * results[-1][1]:.2f}%", flush=True)
        if stop_at_target and results[-1][1] >= TARGET:
            break
    return results


def time_to_target(results: list[tuple[float, float]]) -> tuple[int, float] | None:
    total = 0.0
    for epoch, (seconds, accuracy) in enumerate(results, start=1):
        total += seconds
        if accuracy >= TARGET:
            return epoch, total
    return None


def run_quick(data_dir: str | None, seed: int, threads: int) -> tuple[float, dict, list[str]]:
    """Run the README's quick command as its own process -> (wall seconds, its card, the command)."""
    out = Path(__file__).resolve().parent / "results" / "quick_bilstm.pt"
    command = [sys.executable, "train.py", "--recipe", "quick", "--no-plots", "--seed", str(seed), "--out", str(out),
               *(["--data-dir", data_dir] if data_dir else []), *(["--threads", str(threads)] if threads else [])]
    started = time.perf_counter()
    subprocess.run(command, cwd=Path(train.__file__).resolve().parent, check=True)
    seconds = time.perf_counter() - started
    return seconds, json.loads(out.with_suffix(".json").read_text()), command


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None, help="MNIST root; default: training.mnist's rule")
    parser.add_argument("--seed-epochs", type=int, default=30, help="at most this many epochs of the tutorial's recipe")
    parser.add_argument("--full", action="store_true", help="run all --seed-epochs, not only until 98.15%%")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="CPU threads for both (train.py --threads); default: torch's")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; load average before: "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} (other work on this machine slows both)")

    seconds, card, command = run_quick(args.data_dir, args.seed, args.threads)
    ours = [e["test_acc"] for e in card["epochs"]]
    print(f"ours: `{' '.join(['python', *command[1:]])}` ({len(ours)} epochs): {seconds:.1f}s for the whole command, "
          f"test {100 * ours[-1]:.2f}% (per epoch: {', '.join(f'{100 * a:.2f}%' for a in ours)}; "
          f"training alone {card['wall_seconds']:.1f}s)")
    print(f"tutorial recipe, up to {args.seed_epochs} epochs:")
    tutorial = run_tutorial(args.data_dir, args.seed_epochs, args.seed, stop_at_target=not args.full)

    mean = sum(s for s, _ in tutorial) / len(tutorial)
    per_epoch = sum(e["train_seconds"] for e in card["epochs"]) / len(ours)
    augmented = "augmented" if card["recipe"]["augment"] else "not augmented"
    print(f"\nseconds per epoch: tutorial {mean:.1f}; ours {per_epoch:.1f} (with its non-digits, {augmented}, "
          f"{card['precision']})")
    hit = time_to_target(tutorial)
    described = (f"epoch {hit[0]}, {hit[1]:.1f}s of training" if hit
                 else f"not within {len(tutorial)} epochs (> {sum(s for s, _ in tutorial):.0f}s)")
    print(f"tutorial to {100 * TARGET:.2f}%: {described}")
    if ours[-1] < TARGET:
        print(f"ours ended at {100 * ours[-1]:.2f}%, short of {100 * TARGET:.2f}%: no ratio")
        return
    bound = hit[1] if hit else sum(s for s, _ in tutorial)
    print(f"ours: {100 * ours[-1]:.2f}% after {seconds:.1f}s, whole command -> {bound / seconds:.1f}x sooner"
          f"{'' if hit else ' (at least)'}   goal >= 10x")
    print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
