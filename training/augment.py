"""Augmentation: random distortions of (N, 28, 28) digits, batched on the device, each range a field of the recipe.

    from training.augment import augment
    x = augment(images, torch.Generator().manual_seed(0), RECIPES["ours"])   # (N, 28, 28) -> same

Hand-drawn digits differ from MNIST's mostly in tilt, proportions, slant, position, stroke thickness, binary
canvas ink, wobble (elastic) and the coarse look of other scanners, even after to_mnist has centred and
scaled them; the model learns to ignore those differences.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from training.recipe import RECIPES, Recipe


def augment(images: torch.Tensor, generator: torch.Generator, recipe: Recipe = RECIPES["ours"]) -> torch.Tensor:
    """Random small rotations, scales, shears, shifts, stroke thickness and binary ink, batched: (N, 28, 28) -> same.

    Hand-drawn digits differ from MNIST's mostly in these ways even after to_mnist() has centred and
    scaled them, so the model learns to ignore them. The ranges are the recipe's.
    """
    n, device = images.shape[0], images.device

    def uniform(low: float, high: float) -> torch.Tensor:
        return (torch.rand(n, generator=generator, device=device) * (high - low) + low)

    r = recipe
    angle = uniform(-r.rotation_degrees, r.rotation_degrees) * math.pi / 180
    scale_x, scale_y = uniform(1 - r.scale_range, 1 + r.scale_range), uniform(1 - r.scale_range, 1 + r.scale_range)
    shear = uniform(-r.shear, r.shear)
    shift_x, shift_y = uniform(-r.shift_pixels, r.shift_pixels) / 14, uniform(-r.shift_pixels, r.shift_pixels) / 14
    # (affine_grid units: 14 px = 1.0)
    cos, sin = torch.cos(angle), torch.sin(angle)
    # Sampling grid maps output coords to input coords: theta (N, 2, 3) = [R @ Shear @ S^-1 | shift]
    theta = torch.stack([
        torch.stack([cos / scale_x, (cos * shear - sin) / scale_y, shift_x], dim=1),
        torch.stack([sin / scale_x, (sin * shear + cos) / scale_y, shift_y], dim=1),
    ], dim=1)
    x = images[:, None]  # (N, 1, 28, 28)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)  # (N, 28, 28, 2)
    if r.elastic_fraction and r.elastic_alpha:
        grid = grid + elastic_field(n, r, generator, device)  # the same one resampling does both
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    # Stroke thickness: some of the batch thicker (3x3 max = dilation), some thinner (3x3 min = erosion,
    # averaged with the original so thin strokes do not vanish). Pooling only those samples halves the
    # cost of this step.
    choice = torch.rand(n, generator=generator, device=device)
    thicker = choice < r.thicker_fraction
    thinner = (choice >= r.thicker_fraction) & (choice < r.thicker_fraction + r.thinner_fraction)
    x[thicker] = F.max_pool2d(x[thicker], 3, stride=1, padding=1)
    x[thinner] = 0.5 * x[thinner] - 0.5 * F.max_pool2d(-x[thinner], 3, stride=1, padding=1)
    # Canvas ink is binary (black or white, no anti-aliasing) and turns grey only where to_mnist
    # shrinks it. For a fifth of the batch, redraw the digit that way: 3x up, threshold, 3x3 mean down.
    binary = torch.rand(n, generator=generator, device=device) < r.binary_fraction
    sharp = F.interpolate(x[binary], scale_factor=3, mode="bilinear", align_corners=False) > 0.5
    x[binary] = F.avg_pool2d(sharp.float(), 3)
    # Scanned digits of other writers come at a few cells a side: thick, blobby strokes, loops filled in.
    if r.coarse_fraction:
        coarse = torch.rand(n, generator=generator, device=device) < r.coarse_fraction
        side = int(torch.randint(r.coarse_cells, r.coarse_cells_up_to + 1, (1,), generator=generator, device=device))
        thick = F.max_pool2d(x[coarse], r.coarse_pen, stride=1, padding=r.coarse_pen // 2)
        cells = F.interpolate(thick, size=(side, side), mode="area")
        sharp = F.interpolate(cells, size=(84, 84), mode="bicubic", align_corners=False) > 0.5  # 3x, cut at half ink
        x[coarse] = F.avg_pool2d(sharp.float(), 3)
    return x[:, 0].clamp(0.0, 1.0)


def elastic_field(n: int, r: Recipe, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """A smooth random displacement per image, (N, 28, 28, 2) in affine_grid units (14 px = 1.0); zero for the
    images outside r.elastic_fraction. White noise blurred by a Gaussian of r.elastic_sigma pixels, scaled so
    that its largest displacement is r.elastic_alpha pixels."""
    radius = int(3 * r.elastic_sigma)
    taps = torch.exp(-0.5 * (torch.arange(-radius, radius + 1, device=device) / r.elastic_sigma) ** 2)
    taps = taps / taps.sum()
    noise = torch.rand(n * 2, 1, 28, 28, generator=generator, device=device) * 2 - 1  # x and y of every image
    noise = F.conv2d(F.pad(noise, (radius, radius, 0, 0), mode="reflect"), taps.view(1, 1, 1, -1))  # blur rows
    noise = F.conv2d(F.pad(noise, (0, 0, radius, radius), mode="reflect"), taps.view(1, 1, -1, 1))  # then columns
    field = noise.view(n, 2, 28, 28)
    largest = field.abs().amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-6)
    chosen = torch.rand(n, 1, 1, 1, generator=generator, device=device) < r.elastic_fraction
    field = field / largest * (r.elastic_alpha / 14) * chosen
    return field.permute(0, 2, 3, 1)
