"""Whether less of a clip decodes than its container declares: :class:`~skmem.video.ClipDamage` from a decode."""


import numpy as np
from skmem.video.errors import ClipDamage
from skmem.video.index import _EPS


def _missing_frames(index, run):
    """How many indexed frames within the span of a run of decoded frame times it lacks."""
    if not run:
        return 0
    expected = index.times[(index.times >= min(run) - _EPS) & (index.times <= max(run) + _EPS)]
    return int(np.count_nonzero(~np.isin(np.round(expected, 4), np.round(run, 4))))


def _tolerance(interval):
    return max(2 * interval, 0.1)


def _assess(path, index, decoder, missed):
    """A :class:`ClipDamage` when less of the clip decodes than its container declares, else None."""
    if index is None:
        return None
    tolerance = _tolerance(index.interval)
    end, reasons = index.end, []
    if index.declared - end > tolerance:
        reasons.append(f"data ends at {end:.2f} s")
    if decoder.frames_end is not None and decoder.frames_end < end - tolerance:
        end = decoder.frames_end
        reasons.append(f"frames end at {end:.2f} s")
    lost = 0.0
    for first, last in index.gaps():
        if last < end:
            lost += last - first - index.interval
            reasons.append(f"no frames from {first:.2f} s to {last:.2f} s")
    missing = sum(_missing_frames(index, run) for run in decoder.runs)
    if missing:
        lost += missing * index.interval
        reasons.append(f"{missing} frame(s) failed to decode")
    if missed is not None:
        landed = "nowhere" if missed.landed is None else f"at {missed.landed:.2f} s"
        reasons.append(f"seeking to the key frame at {missed.wanted:.2f} s landed {landed}")
    decoded = max(0.0, end - lost)
    if missed is None and index.declared - decoded <= tolerance:
        return None
    return ClipDamage(path, float(index.declared), float(decoded), "; ".join(reasons))


