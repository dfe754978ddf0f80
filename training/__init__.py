"""What train.py and the benchmarks learn and measure from: MNIST, augmentation, pens, drawings that are not digits."""
