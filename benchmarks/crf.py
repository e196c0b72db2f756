"""DenseCRF speed and agreement: garden's lattice mean field against Krähenbühl's C++ code
(`pydensecrf2`) and against garden's exact dense kernels.

`python -m benchmarks.crf` runs 10 mean-field iterations with 21 labels on three of
scikit-image's photographs (astronaut, coffee, chelsea) resized to 321x321, with the same unaries
(noisy scores of a 21-level quantisation of each image), image (uint8, as pydensecrf2 takes it)
and kernel parameters (garden's defaults) in both; pydensecrf2's `addPairwiseGaussian(sxy=theta_g,
compat=w2)` and `addPairwiseBilateral(sxy=theta_a, srgb=255 theta_b, compat=w1)` use the same
Potts sign (reward for the same label) and symmetric normalisation as garden. Then the same
against `DenseCRF(method="dense")` at 64x64, where the dense kernels fit. One thread (BLAS too),
repetitions interleaved (garden, peer, garden, peer, ... after one warm-up each); time ratios
are garden / peer per pair, quoted as median, min and max; agreement is the fraction of pixels
with the same argmax label, median, min and max over the images. Prints the rows and writes
`results/crf.json`. About a minute on one core. The pydensecrf2 rows need the bench extra
(`pip install garden[bench]`); without it they are left out with a warning.
"""

import json
import statistics
import sys
import warnings

import numpy as np
import skimage.data
import skimage.transform
from threadpoolctl import threadpool_limits

from benchmarks import _timing
from garden.tools import DenseCRF
from garden.utils.files import write_text

IMAGES = ("astronaut", "coffee", "chelsea")
FULL = {"size": 321, "labels": 21, "iterations": 10, "repeats": 5, "images": IMAGES}
DENSE = {"size": 64, "labels": 21, "iterations": 10, "repeats": 2, "images": IMAGES}
TINY = {"size": 32, "labels": 5, "iterations": 3, "repeats": 2, "images": IMAGES[:1]}


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def scene(name, size, labels, seed=0):
    """A uint8 photograph at `size` x `size`, and scores of a `labels`-level quantisation of its
    brightness, noisy enough that the argmax is wrong on about half of the pixels."""
    photo = skimage.transform.resize(getattr(skimage.data, name)(), (size, size))
    image = np.round(photo * 255).astype(np.uint8)
    levels = np.minimum((photo.mean(-1) * labels).astype(int), labels - 1)
    rng = np.random.default_rng(seed)
    logits = 2.0 * np.eye(labels)[levels] + rng.normal(0.0, 1.0, (size, size, labels))
    probabilities = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return image, probabilities.astype(np.float32)


def pydensecrf_inference(crf, image, probabilities, iterations):
    """Krähenbühl's mean field through pydensecrf2, with `crf`'s kernel parameters."""
    import pydensecrf.densecrf as dcrf

    height, width, labels = probabilities.shape
    model = dcrf.DenseCRF2D(width, height, labels)
    unary = -np.log(np.clip(probabilities, 1e-8, 1.0)).reshape(-1, labels)
    model.setUnaryEnergy(np.ascontiguousarray(unary.T))
    model.addPairwiseGaussian(sxy=crf.smoothness_theta, compat=crf.smoothness_weight)
    model.addPairwiseBilateral(sxy=crf.appearance_theta, srgb=crf.color_theta * 255,
                               rgbim=np.ascontiguousarray(image), compat=crf.appearance_weight)
    q = np.array(model.inference(iterations))
    return q.reshape(labels, height, width).transpose(1, 2, 0)


def compare(peer_name, peer, config):
    """The time and agreement rows of `DenseCRF()` against `peer(image, probabilities)`."""
    crf = DenseCRF()
    ratios, agreements, garden_seconds, peer_seconds = [], [], [], []
    for name in config["images"]:
        image, probabilities = scene(name, config["size"], config["labels"])
        scaled = image / 255.0  # garden's colour scale is for images in [0, 1]
        calls = {"garden": lambda: crf(probabilities, scaled, config["iterations"]),
                 "peer": lambda: peer(image, probabilities)}
        results = {name: call() for name, call in calls.items()}  # the warm-up, compared below
        seconds = _timing.interleave(calls, repeats=config["repeats"], warmup=0)
        ratios += _timing.ratios(seconds, "garden", "peer")
        garden_seconds += seconds["garden"]
        peer_seconds += seconds["peer"]
        agreements.append(float(np.mean(
            results["garden"].argmax(-1) == results["peer"].argmax(-1))))
    size = f"{config['size']}x{config['size']}"
    detail = {"size": size, "labels": config["labels"], "iterations": config["iterations"],
              "images": list(config["images"]), "repeats": config["repeats"], "threads": 1,
              "garden_seconds": summary(garden_seconds), "peer_seconds": summary(peer_seconds)}
    return [_timing.row("crf", f"lattice / {peer_name} time, {size}", ratios, "time ratio",
                        **detail),
            _timing.row("crf", f"lattice = {peer_name} labels, {size}", agreements, "agreement",
                        **detail)]


def rows(tiny: bool = False) -> list[dict]:
    """The benchmark's rows; `tiny` is a seconds-long configuration that checks it runs."""
    full, dense = (TINY, TINY) if tiny else (FULL, DENSE)
    result = []
    with threadpool_limits(limits=1):
        try:
            import pydensecrf.densecrf  # noqa: F401
        except ImportError:
            warnings.warn("pydensecrf2 is not installed (pip install garden[bench]): the rows "
                          "against Krähenbühl's C++ DenseCRF are left out.", stacklevel=2)
        else:
            result += compare("pydensecrf2", lambda image, p: pydensecrf_inference(
                DenseCRF(), image, p, full["iterations"]), full)
        exact = DenseCRF(method="dense")
        result += compare("dense", lambda image, p: exact(p, image / 255.0, dense["iterations"]),
                          dense)
    return result


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    result = rows(tiny="--tiny" in argv)
    print(_timing.format_table(result))
    for line in result[::2]:
        garden, peer = line["detail"]["garden_seconds"], line["detail"]["peer_seconds"]
        print(f"{line['row']}: garden {garden['median']:.3f} s, peer {peer['median']:.3f} s "
              "(median per call)")
    write_text("results/crf.json", json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
