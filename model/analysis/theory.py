"""Known answers from queueing theory, used to verify the engine.

Three results cover what a border crossing does in special cases:

* **Erlang C** (M/M/c): with constant Poisson arrivals, exponential service
  and ``c`` booths, the probability of waiting, the mean wait and the mean
  queue are known in closed form.
* **The fluid solution** (cumulative arrivals minus cumulative capacity): with
  deterministic inputs the queue is the reflected difference of two
  piecewise-linear curves, the "cumulative diagram" of traffic engineering.
* **Cobham's formula** (non-preemptive priority M/M/c): with classes served
  highest first and one service rate, the mean wait of each class.
* **Little's law** (L = lambda W): for any queue observed over a window, the
  time-average number waiting equals the arrival rate times the mean time
  waiting, provided every stay is counted only inside the window.

Everything here is a pure function of numbers or of a run's minute-based
tables; nothing runs the simulation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .key_figures import crossing_series

__all__ = [
    "erlang_b",
    "erlang_c",
    "MMc",
    "mmc",
    "tandem_blocking_throughput",
    "priority_waits",
    "fluid_queue",
    "step_area",
    "LittleCheck",
    "littles_law",
    "littles_law_by_crossing",
]


def erlang_b(servers: int, load: float) -> float:
    """Erlang B blocking probability for ``servers`` and offered load ``load`` = lambda / mu.

    Computed with the stable recursion B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1))
    (Jagerman 1974), which never forms a! or a^c and so works for hundreds of
    servers.
    """
    if servers < 0 or load < 0:
        raise ValueError("servers and load must be >= 0")
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(servers: int, load: float) -> float:
    """Erlang C: probability that an arrival waits in an M/M/c queue.

    C(c, a) = c B(c, a) / (c - a (1 - B(c, a))), with a = lambda / mu < c
    (Gross & Harris, *Fundamentals of Queueing Theory*, 4th ed., eq. 2.36;
    Kleinrock, *Queueing Systems* vol. 1, eq. 3.40). Returns 1 when a >= c
    (the queue is unstable and everyone eventually waits).
    """
    if servers < 1:
        raise ValueError("servers must be >= 1")
    if load >= servers:
        return 1.0
    b = erlang_b(servers, load)
    return servers * b / (servers - load * (1.0 - b))


@dataclass(frozen=True)
class MMc:
    """Steady-state figures of an M/M/c queue (time unit: that of the rates)."""

    arrival_rate: float
    service_rate: float
    servers: int
    utilisation: float  # rho = lambda / (c mu)
    p_wait: float  # Erlang C
    wq: float  # mean wait in queue
    lq: float  # mean number waiting (excluding those in service)
    w: float  # mean time in system
    l: float  # noqa: E741 - mean number in system (L in queueing notation)


def mmc(arrival_rate: float, service_rate: float, servers: int) -> MMc:
    """Erlang C figures: Wq = C / (c mu - lambda), Lq = lambda Wq, W = Wq + 1/mu, L = lambda W.

    Reference: Gross & Harris (4th ed.) section 2.3; the Lq = lambda Wq step is
    Little's law. Raises ValueError if the queue is unstable (rho >= 1).
    """
    if arrival_rate < 0 or service_rate <= 0:
        raise ValueError("arrival_rate must be >= 0 and service_rate > 0")
    rho = arrival_rate / (servers * service_rate)
    if rho >= 1:
        raise ValueError(f"utilisation {rho:.3g} >= 1: the M/M/c queue has no steady state")
    c = erlang_c(servers, arrival_rate / service_rate)
    wq = c / (servers * service_rate - arrival_rate)
    w = wq + 1.0 / service_rate
    return MMc(arrival_rate, service_rate, servers, rho, c, wq, arrival_rate * wq, w, arrival_rate * w)


def priority_waits(arrival_rates: list[float], service_rate: float, servers: int) -> list[float]:
    """Mean wait in queue of each class of a non-preemptive priority M/M/c queue (Cobham 1954).

    Classes are given highest first, all served at rate ``service_rate`` by ``servers`` booths, first come
    first served within a class. With sigma_k = (lambda_1 + ... + lambda_k) / (c mu) and
    W0 = C(c, lambda / mu) / (c mu) (Erlang C: the mean residual time until some booth frees, times the
    probability of waiting), W_k = W0 / ((1 - sigma_{k-1}) (1 - sigma_k)). Reference: Gross & Harris
    (4th ed.) section 3.4.1, eq. 3.42. Raises ValueError if the queue is unstable (sigma_K >= 1).
    """
    if service_rate <= 0 or any(rate < 0 for rate in arrival_rates):
        raise ValueError("arrival rates must be >= 0 and service_rate > 0")
    total = sum(arrival_rates)
    capacity = servers * service_rate
    if total >= capacity:
        raise ValueError(f"utilisation {total / capacity:.3g} >= 1: the queue has no steady state")
    w0 = erlang_c(servers, total / service_rate) / capacity
    waits, before = [], 0.0
    for rate in arrival_rates:
        after = before + rate / capacity
        waits.append(w0 / ((1.0 - before) * (1.0 - after)))
        before = after
    return waits


def tandem_blocking_throughput(mu1: float, mu2: float, holding: int) -> float:
    """Long-run throughput of two single exponential booths in series with an endless queue before the first,
    ``holding`` places between them and blocking after service (rates per unit time).

    The Markov chain's state is n, the parties past the first booth and not yet through the second
    (0 .. holding + 1), plus one state 'the first booth holds a finished party' (blocked); it is solved
    exactly. The throughput is mu2 x P(second booth busy) = mu1 x P(first booth not blocked). Reference:
    Perros, *Queueing networks with blocking* (1994), the two-station case.
    """
    states = holding + 3
    q = np.zeros((states, states))
    for n in range(holding + 2):  # the first booth is serving: a service ends at mu1
        q[n, n + 1] += mu1
    for n in range(1, states):  # the second booth is serving: from 'blocked', the blocked party moves up
        q[n, n - 1] += mu2
    np.fill_diagonal(q, -q.sum(axis=1))
    a = np.vstack([q.T, np.ones(states)])
    b = np.zeros(states + 1)
    b[-1] = 1.0
    pi = np.linalg.lstsq(a, b, rcond=None)[0]
    return float(mu2 * (1.0 - pi[0]))


def fluid_queue(
    breakpoints: np.ndarray | list[float],
    arrival_rates: np.ndarray | list[float],
    capacity_rates: np.ndarray | list[float],
    at: np.ndarray | list[float],
    initial: float = 0.0,
) -> np.ndarray:
    """The fluid queue Q(t) for piecewise-constant arrival and service rates.

    Rates ``arrival_rates[i]`` and ``capacity_rates[i]`` hold on
    ``[breakpoints[i], breakpoints[i+1])`` (the last one for ever); before
    ``breakpoints[0]`` nothing happens and the queue is ``initial``. Capacity is
    booths open / service time per vehicle, so a booth schedule is a step in
    ``capacity_rates``. With cumulative arrivals A(t) and cumulative capacity
    C(t), and X(t) = initial + A(t) - C(t), the queue is the reflected curve

        Q(t) = X(t) - min(0, min over s <= t of X(s)),

    which for constant rates on a piece reduces to
    Q(t) = max(0, Q(t_i) + (lambda_i - mu_i)(t - t_i)) (Newell, *Applications of
    Queueing Theory*, 2nd ed., ch. 2; Daganzo, *Fundamentals of Transportation
    and Traffic Operations*, ch. 3). Returns Q at each time in ``at``.
    """
    t = np.asarray(breakpoints, dtype=float)
    lam = np.asarray(arrival_rates, dtype=float)
    mu = np.asarray(capacity_rates, dtype=float)
    if not (len(t) == len(lam) == len(mu)) or len(t) == 0:
        raise ValueError("breakpoints, arrival_rates and capacity_rates need the same, non-zero length")
    if np.any(np.diff(t) < 0):
        raise ValueError("breakpoints must be in time order")
    start_q = np.empty(len(t))
    q = float(initial)
    for i in range(len(t)):
        start_q[i] = q
        if i + 1 < len(t):
            q = max(0.0, q + (lam[i] - mu[i]) * (t[i + 1] - t[i]))
    at = np.asarray(at, dtype=float)
    i = np.searchsorted(t, at, side="right") - 1
    inside = i >= 0
    j = np.clip(i, 0, None)
    value = np.maximum(0.0, start_q[j] + (lam[j] - mu[j]) * (at - t[j]))
    return np.where(inside, value, float(initial))


def step_area(times: np.ndarray, values: np.ndarray, start: float, end: float) -> float:
    """Integral over [start, end] of the right-continuous step function (times, values); zero before its first time."""
    times = np.asarray(times, dtype=float)
    values = np.asarray(values, dtype=float)
    if end <= start or len(times) == 0:
        return 0.0
    edges = np.clip(np.append(times, end), start, end)
    return float(np.sum(values * np.diff(edges)))


@dataclass(frozen=True)
class LittleCheck:
    """Both sides of Little's law for one queue over a window of ``length`` minutes.

    ``time_average`` is L from the queue series; ``arrival_rate`` x
    ``mean_time`` is lambda W from the stays. A correct engine has L = lambda W
    to rounding.
    """

    length: float
    time_average: float  # L
    arrival_rate: float  # lambda, per minute
    mean_time: float  # W, minutes (stays cut at the window's end)
    arrivals: float

    @property
    def lambda_w(self) -> float:
        return self.arrival_rate * self.mean_time

    @property
    def gap(self) -> float:
        """L - lambda W."""
        return self.time_average - self.lambda_w

    @property
    def holds(self) -> bool:
        slack = 1e-9 * max(1.0, self.time_average)
        return abs(self.gap) <= slack


def littles_law(
    series_times: np.ndarray,
    series_values: np.ndarray,
    joined: np.ndarray,
    left: np.ndarray,
    weights: np.ndarray,
    end: float,
) -> LittleCheck:
    """Little's law L = lambda W over the window [0, end] (minutes).

    L = (1/T) integral of the number waiting; lambda = (arrivals in the
    window) / T; W = mean over arrivals of min(left, T) - joined, where
    ``left`` is NaN for stays still going at T. Cutting stays at T (counting
    censored waits up to the horizon) makes the identity exact for a
    terminating run that starts empty or with its initial queue at time 0
    (Stidham 1974; Law, *Simulation Modeling and Analysis*, 5th ed., 1.4.5):
    integral of Q = sum over arrivals of their time in the queue inside
    [0, T]. ``weights`` counts people per party when the series counts people.
    """
    joined = np.asarray(joined, dtype=float)
    left = np.asarray(left, dtype=float)
    weights = np.asarray(weights, dtype=float)
    inside = joined <= end
    stay = np.minimum(np.where(np.isnan(left), end, left), end) - joined
    n = float(weights[inside].sum())
    person_minutes = float((weights[inside] * stay[inside]).sum())
    area = step_area(series_times, series_values, 0.0, end)
    return LittleCheck(
        length=end,
        time_average=area / end,
        arrival_rate=n / end,
        mean_time=person_minutes / n if n else 0.0,
        arrivals=n,
    )


def littles_law_by_crossing(parties: pd.DataFrame, queues: pd.DataFrame, stays: pd.DataFrame, end: float) -> dict[str, LittleCheck]:
    """Little's law in people for each crossing of one replication's minute-based tables.

    Every stay in a queue is in the stays log (a party that walked, or drove on
    to another crossing, has one row per queue it stood in), so the identity is
    exact. People per stay come from the party log; a bus's stay (negative
    party id -1 - bus_id) carries its riders' people.
    """
    people = parties.set_index("party_id")["people"]
    bus_people = parties[parties["bus_id"] >= 0].groupby("bus_id")["people"].sum()
    ids = stays["party_id"].to_numpy()
    weights = np.where(ids >= 0, stays["party_id"].map(people).to_numpy(dtype=float),
                       pd.Series(-1 - ids).map(bus_people).to_numpy(dtype=float))
    out: dict[str, LittleCheck] = {}
    for name, q in queues.groupby("crossing", sort=True):
        series = crossing_series(q, columns=("people_waiting",))
        here = (stays["crossing"] == name).to_numpy()
        out[name] = littles_law(
            series["time"].to_numpy(),
            series["people_waiting"].to_numpy(),
            stays.loc[here, "joined_at"].to_numpy(),
            stays.loc[here, "left_at"].to_numpy(),
            weights[here],
            end,
        )
    return out
