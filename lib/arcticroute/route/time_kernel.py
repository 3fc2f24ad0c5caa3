"""The compiled core of the time-dependent search (``time_search``): a heap Dijkstra over the
8-neighbour grid whose steps take their cost and hard limits from the day the step begins.

Imported only by ``time_search`` when a route is planned, so that numba (and its compile-cache
look-up) stays out of every command's start-up. The edge cost is MCP_Geometric's, term for term
(skimage/graph/_mcp.pyx: ``offset_length * 0.5 * (old_cost + new_cost)``, start label 0, a
neighbour with a negative cost never entered, a settled cell never relaxed again), so that with
one day of conditions the labels are the static route's bit for bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..polaris import TYPED_FROM
from .routing import WAVE_LOSS_PER_M2, WAVE_MIN_FRACTION

REACHED, EXHAUSTED, NEEDS_DAY = 0, 1, 2

_DR = np.array([-1, -1, -1, 0, 0, 1, 1, 1], dtype=np.int64)
_DC = np.array([-1, 0, 1, -1, 1, -1, 0, 1], dtype=np.int64)
_LENGTH = np.array([np.sqrt(2.0), 1.0, np.sqrt(2.0), 1.0, 1.0, np.sqrt(2.0), 1.0, np.sqrt(2.0)])
# as routing.wave_speed_fraction and polaris.type_unknown use them: float32
WAVE_CONSTANTS = np.array([-WAVE_LOSS_PER_M2, WAVE_MIN_FRACTION, TYPED_FROM], dtype=np.float32)


@njit(cache=True)
def _slot_of(bounds, moment):
    """The slot (day) whose conditions hold at ``moment``: how many day starts lie at or before it."""
    lo, hi = 0, bounds.size
    while lo < hi:
        mid = (lo + hi) // 2
        if bounds[mid] <= moment:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def _put(key, node, pos, i, k, v):
    key[i], node[i] = k, v
    pos[v] = i


@njit(cache=True)
def _sift_up(key, node, pos, i):
    k, v = key[i], node[i]
    while i > 0 and key[(i - 1) // 2] > k:
        parent = (i - 1) // 2
        _put(key, node, pos, i, key[parent], node[parent])
        i = parent
    _put(key, node, pos, i, k, v)


@njit(cache=True)
def _sift_down(key, node, pos, i, size):
    k, v = key[i], node[i]
    while 2 * i + 1 < size:
        child = 2 * i + 1
        if child + 1 < size and key[child + 1] < key[child]:
            child += 1
        if key[child] >= k:
            break
        _put(key, node, pos, i, key[child], node[child])
        i = child
    _put(key, node, pos, i, k, v)


@njit(cache=True)
def search(cost_pm, time_pm, step, nx, bounds, start, end, wait_max, wait_cost, state_g, state_t, pred, waited,
           frozen, heap_key, heap_node, pos, size):
    """Run (or resume) the search; returns (status, slot): REACHED, EXHAUSTED, or NEEDS_DAY with
    the slot whose conditions must be loaded (``cost_pm.shape[0]`` slots are) before resuming.

    ``cost_pm``/``time_pm`` (slot x cell, float32): cost and sailing seconds per metre, -1 in
    ``cost_pm`` where a hard limit closes the cell that day; ``step``: the metres of an axial step
    through each cell; ``bounds``: seconds from departure at which slot 1, 2 ... begins. Waiting:
    up to ``wait_max`` seconds at a cell before a step, only until a day begins (conditions change
    nowhere else), each second costing ``wait_cost``. ``size`` (1 element) is the heap's count."""
    loaded = cost_pm.shape[0]
    last = bounds.size
    while size[0] > 0:
        a = heap_node[0]
        ta = state_t[a]
        needed = min(_slot_of(bounds, ta + wait_max), last)
        if needed >= loaded:
            return NEEDS_DAY, needed
        size[0] -= 1
        pos[a] = -1
        if size[0] > 0:
            heap_key[0], heap_node[0] = heap_key[size[0]], heap_node[size[0]]
            _sift_down(heap_key, heap_node, pos, 0, size[0])
        frozen[a] = 1
        if a == end:
            return REACHED, 0
        ra, ca = a // nx, a % nx
        ny = step.size // nx
        s0 = _slot_of(bounds, ta)
        for option in range(last - s0 + 1):
            if option == 0:
                wait, s = 0.0, s0
            else:
                wait = bounds[s0 + option - 1] - ta
                if wait > wait_max:
                    break
                s = s0 + option
            pa = cost_pm[s, a]
            if pa < 0 and a != start:
                continue  # closed around the ship that day: it may not sail on from here (waiting may open it)
            cost_a = -1.0 if pa < 0 else np.float64(pa) * np.float64(step[a])  # MCP keeps a closed start's -1
            tau_a = max(np.float64(time_pm[s, a]), 0.0) * np.float64(step[a])
            base = state_g[a] + wait * wait_cost
            for k in range(8):
                rb, cb = ra + _DR[k], ca + _DC[k]
                if rb < 0 or rb >= ny or cb < 0 or cb >= nx:
                    continue
                b = rb * nx + cb
                if frozen[b]:
                    continue
                pb = cost_pm[s, b]
                if pb < 0:
                    continue
                cost_b = np.float64(pb) * np.float64(step[b])
                new_g = base + _LENGTH[k] * 0.5 * (cost_a + cost_b)
                if new_g < state_g[b]:
                    tau_b = np.float64(time_pm[s, b]) * np.float64(step[b])
                    state_g[b] = new_g
                    state_t[b] = ta + wait + _LENGTH[k] * 0.5 * (tau_a + tau_b)
                    pred[b] = a
                    waited[b] = wait
                    if pos[b] < 0:
                        heap_key[size[0]], heap_node[size[0]] = new_g, b
                        pos[b] = size[0]
                        size[0] += 1
                    else:
                        heap_key[pos[b]] = new_g
                    _sift_up(heap_key, heap_node, pos, pos[b])
    return EXHAUSTED, 0


@njit(cache=True)
def traceback(pred, end):
    """The cells from the start to ``end`` (flat indices), following ``pred``."""
    n = 1
    c = end
    while pred[c] >= 0:
        c = pred[c]
        n += 1
    out = np.empty(n, dtype=np.int64)
    c = end
    for i in range(n - 1, -1, -1):
        out[i] = c
        c = pred[c]
    return out


@njit(cache=True)
def _regime(c, code, has_stage, ten, half, typed_from, unknown_stage):
    """``routing.regime_index`` of one cell: stage code x 11 + concentration in tenths, with
    ``polaris.tenths`` and ``polaris.stage_or_default``'s rules and precision."""
    if c != c:
        c = ten - ten  # NaN counts as no ice (nan_to_num), in the field's own type
    x = c * ten + half
    if not x < 11.0:
        tenths = 10
    elif x < 0.0:
        tenths = 0
    else:
        tenths = min(int(np.floor(x)), 10)
    stage = 0
    valid = False
    if has_stage and code >= 0 and code <= 11:
        stage = int(code)
        valid = code >= 1
    if np.float32(c) >= typed_from and not valid:
        stage = unknown_stage  # ice that needs a type and has none: the most severe plausible
    return stage * 11 + tenths


@njit(cache=True)
def day_surface(sic, stage, has_stage, hs, risk, closed, seconds, permitted, constants, use_sic, sic_limit,
                use_wave, wave_limit, risk_factor, unknown_stage, cost_out, time_out):
    """One day's cost and time per metre (float32), -1 in ``cost_out`` where a hard limit closes
    the cell: ``routing.regime_index``, ``routing.cost_per_metre`` and ``routing.blocked_masks``
    fused in one pass, the same operations in the same precision (so the values are theirs bit
    for bit). ``closed``: the limits that are not the day's ice and waves (land, depth, the
    sea-area rules); ``constants``: (10, 0.5) in the concentration's type; ``risk_factor`` 0: no
    risk penalty (then ``time_out`` may be ``cost_out``)."""
    zero, one = np.float32(0.0), np.float32(1.0)
    wave_loss, wave_floor, typed_from = WAVE_CONSTANTS[0], WAVE_CONSTANTS[1], WAVE_CONSTANTS[2]
    ten, half = constants[0], constants[1]
    for i in range(sic.size):
        k = _regime(sic[i], stage[i] if has_stage else 0, has_stage, ten, half, typed_from, unknown_stage)
        h = np.float32(hs[i])
        if not h >= zero:  # NaN (land) and below 0 count as calm, as np.fmax(h, 0) does
            h = zero
        fraction = h * h
        fraction = fraction * wave_loss
        fraction = fraction + one
        if fraction < wave_floor:
            fraction = wave_floor
        per_metre = seconds[k] / fraction
        time_out[i] = per_metre
        if risk_factor != zero:
            r = np.float32(risk[i])
            if not r >= zero:
                r = zero
            per_metre = per_metre + r * risk_factor
        shut = closed[i] or not permitted[k]
        if use_sic and not shut:
            c = sic[i]
            shut = c == c and c > sic_limit
        if use_wave and not shut:
            w = hs[i]
            shut = w == w and w > wave_limit
        cost_out[i] = np.float32(-1.0) if shut else per_metre


@njit(cache=True)
def reached_surface(cost_rows, step, bounds, state_t, fallback_t, out):
    """Each cell's cost per axial step on the day the search reaches it (cells it never reached:
    the day of ``fallback_t``), -1 where closed that day: what smoothing weighs legs on."""
    last = cost_rows.shape[0] - 1
    for i in range(out.size):
        t = state_t[i]
        if not t < np.inf:
            t = fallback_t
        s = min(_slot_of(bounds, t), last)
        c = cost_rows[s, i]
        out[i] = -1.0 if c < 0 else np.float64(c) * np.float64(step[i])
