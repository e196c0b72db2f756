"""Source-separation quality with mir_eval's BSS Eval (SDR, SIR, SAR).

Reference:
    Vincent, Gribonval and Fevotte, "Performance measurement in blind audio source separation",
    IEEE TASLP 2006; mir_eval (Raffel et al., ISMIR 2014).
"""

import warnings

import numpy as np


def separation_scores(references, estimates, mixture):
    """SDR, SIR and SAR in dB of `estimates` for `references` and their improvement over the
    unprocessed mixture (the mixture taken as every source's estimate).

    Args:
        references: array `(sources, samples)`, e.g. `[vocal, accompaniment]`.
        estimates: array `(sources, samples)` in the same order.
        mixture: array `(samples,)`.

    Returns:
        dict of floats: `sdr`, `sir`, `sar` per source (`sdr_0`, ...), and `nsdr_0`, ...,
        the SDR improvement over the mixture.
    """
    import mir_eval

    references, estimates = np.asarray(references, float), np.asarray(estimates, float)
    if references.shape != estimates.shape or references.ndim != 2:
        raise ValueError(
            f"estimates of shape {estimates.shape} are not allowed for references of shape "
            f"{references.shape}: use two arrays (sources, samples) of the same shape."
        )
    baseline = np.repeat(np.asarray(mixture, float)[None], len(references), axis=0)
    with warnings.catch_warnings():
        # mir_eval 0.8 marks its separation module deprecated (in favour of museval, the same
        # BSS Eval v3 definitions); it is still the reference implementation of bss_eval_sources.
        warnings.simplefilter("ignore", FutureWarning)
        sdr, sir, sar, _ = mir_eval.separation.bss_eval_sources(references, estimates,
                                                                compute_permutation=False)
        sdr_mix, _, _, _ = mir_eval.separation.bss_eval_sources(references, baseline,
                                                                compute_permutation=False)
    scores = {}
    for i in range(len(references)):
        scores.update({f"sdr_{i}": sdr[i], f"sir_{i}": sir[i], f"sar_{i}": sar[i],
                       f"nsdr_{i}": sdr[i] - sdr_mix[i]})
    return {key: float(value) for key, value in scores.items()}
