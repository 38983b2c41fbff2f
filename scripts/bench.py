"""Benchmark: what one party costs, and how replications scale with workers (``make bench``).

Prints figures only, no pass/fail:

1. Issue 2 (speed of the engine): parties per second of the model for the
   default scenario and for ``params/mmc_example.toml`` (an M/M/3 queue),
   beside customers per second of a minimal plain-SimPy M/M/c loop (source ->
   Resource request -> timeout -> release) with the same rates, timed in this
   process; and the model's cost per party as a multiple of the loop's
   (target: within 2x). "Engine" is the discrete-event run and its records;
   "replication" adds the per-replication key figures that workers compute.
   Single-process figures use CPU time, the ratio taken within each of 9
   rounds (median, lowest and highest); scaling figures use wall time, best of 2.
2. Scale (issue 13): the engine alone on the default scenario scaled to
   100k, 300k and 1M people (booths and buses scaled alike, lanes by the square root),
   each in a fresh interpreter (best of 2): CPU time per party and per person, against the
   loop's per customer, and peak RSS; beside them the plain loop grown the
   same way (10x arrivals and booths, customers on the road first so that as
   many are under way at once as parties in the scaled scenario), to show how
   much of the growth SimPy itself has; then the 1M-person surge, one
   replication end to end through the command line (tables and report):
   wall time, CPU time per person and peak RSS.
3. End to end (issue 13): 20 replications of the default scenario through
   the command line with the report, with 1 and with 2 worker processes:
   wall times and their ratio, and the 2-worker run split into its start-up
   (Python and the imports, timed as ``model run --help``), the replications
   and the report's sections (on the workers, as manifest.json times them)
   and the serial tail after the replications (joining, writing, the
   report's own part: the rest of the wall time); beside it, the most
   any two workers can get here (two independent processes doing the same
   replications at once, against one alone), and the ratio with the start-up
   taken off both runs. Then the CPU time of each phase,
   run serially in this process: engine, per-replication figures and table
   pieces (what workers do besides the engine), joining the tables, writing
   them, the report.

``--profile`` also prints where the serial tail (joining, writing, report) spends its time;
``--scaled-scenario PEOPLE`` only prints the scaled default scenario as TOML, to run it yourself. The machine is
shared, so the load average is printed first: figures taken under load are
slower and scale worse.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import multiprocessing
import os
import pstats
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import simpy
import tomli_w

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import json  # noqa: E402

from model import run_replication  # noqa: E402
from model.analysis import build_results, summarise_replication  # noqa: E402
from model.engine import Surge, simulate_replication  # noqa: E402
from model.report import write_report, write_results  # noqa: E402
from model.scenario import Scenario, load_scenario, read_scenario_dict  # noqa: E402

DEFAULT = ROOT / "params" / "kharkiv_2022.toml"
MMC = ROOT / "params" / "mmc_example.toml"


def best_of(repeats: int, fn, clock=time.perf_counter) -> tuple[float, object]:
    """Shortest time of ``repeats`` calls of ``fn`` on ``clock`` and the last result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        t0 = clock()
        result = fn()
        best = min(best, clock() - t0)
    return best, result


def plain_mmc(arrivals_per_min: float, service_min: float, servers: int, horizon_min: float, seed: int,
              road_min: float = 0.0) -> int:
    """A minimal SimPy M/M/c: returns how many customers arrived before ``horizon_min``. With ``road_min``, each
    customer first drives for a lognormal time (median ``road_min``, cv 0.35) before queuing."""
    rng = random.Random(seed)
    env = simpy.Environment()
    booths = simpy.Resource(env, capacity=servers)
    arrived = 0

    def customer():
        if road_min:
            yield env.timeout(rng.lognormvariate(0.0, 0.35) * road_min)
        with booths.request() as request:
            yield request
            yield env.timeout(rng.expovariate(1.0 / service_min))

    def source():
        nonlocal arrived
        while True:
            yield env.timeout(rng.expovariate(arrivals_per_min))
            arrived += 1
            env.process(customer())

    env.process(source())
    env.run(until=horizon_min)
    return arrived


def mmc_parameters(s: Scenario) -> tuple[float, float, int, float]:
    """Arrival rate (per minute), mean service (minutes), booths and horizon of the M/M/c scenario."""
    origin, crossing = s.origins[0], s.crossings[0]
    return origin.departures[0].people_per_h / 60.0, crossing.car.service.per_vehicle_min, crossing.car.booths, s.horizon_min


def cost_per_party(rounds: int = 9) -> float:
    """Model against the plain loop, on CPU time, in ``rounds`` rounds of one plain loop then each
    model run. The cost ratio is taken within each round, so a slow spell of the shared machine
    hits both sides of it; the median ratio over the rounds is printed with the lowest and highest.
    Parties (customers) per second are from each side's fastest run."""
    mmc = load_scenario(MMC)
    lam, service, servers, horizon = mmc_parameters(mmc)
    scenarios = (("mmc_example", mmc), ("kharkiv_2022 (every behaviour on)", load_scenario(DEFAULT)))
    engine = {name: [] for name, _ in scenarios}
    replication = {name: [] for name, _ in scenarios}
    parties = {}
    loop = []
    for _ in range(rounds):
        t, customers = best_of(1, lambda: plain_mmc(lam, service, servers, horizon, 1), time.process_time)
        loop.append(t / customers)
        for name, s in scenarios:
            t, rec = best_of(1, lambda: Surge(s, 0).run(), time.process_time)
            parties[name] = len(rec.parties["party_id"])
            engine[name].append(t / parties[name])
            t, _ = best_of(1, lambda: run_replication(s, 0), time.process_time)
            replication[name].append(t / parties[name])

    def ratio(per_party: list[float]) -> str:
        r = sorted(m / c for m, c in zip(per_party, loop))
        return f"{statistics.median(r):.2f} ({r[0]:.2f}-{r[-1]:.2f})"

    print(f"plain SimPy M/M/{servers} loop (lambda {lam * 60:g}/h, service {service:g} min, {horizon / 1440:g} days): "
          f"{1 / min(loop):,.0f} customers/s (CPU time, fastest of {rounds} rounds)")
    print(f"cost per party as a multiple of the loop's: median of {rounds} rounds (lowest-highest)")
    print(f"{'scenario':<36}{'parties':>8}{'engine p/s':>12}{'x loop':>18}{'+ KPIs p/s':>12}{'x loop':>18}")
    for name, _ in scenarios:
        print(f"{name:<36}{parties[name]:>8,}{1 / min(engine[name]):>12,.0f}{ratio(engine[name]):>18}"
              f"{1 / min(replication[name]):>12,.0f}{ratio(replication[name]):>18}")
    return statistics.median(loop)


def _replicate(replications: range) -> None:
    s = load_scenario(DEFAULT)
    for r in replications:
        run_replication(s, r)


def independent_processes(copies: int, replications: range) -> float:
    """Wall time of ``copies`` separate processes each running ``replications`` at once."""
    procs = [multiprocessing.get_context("fork").Process(target=_replicate, args=(replications,)) for _ in range(copies)]
    t0 = time.perf_counter()
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    return time.perf_counter() - t0


def machine_ceiling(replications: int = 4) -> float:
    """Throughput of two independent processes relative to one: what 2 workers can reach on this machine."""
    alone = independent_processes(1, range(replications))
    together = independent_processes(2, range(replications))
    return 2 * alone / together


#: Runs a command and prints, last on stderr, the CPU seconds and the peak RSS (kB) of it and its own children.
_MEASURED = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]); "
             "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
             "print(u.ru_utime + u.ru_stime, u.ru_maxrss, file=sys.stderr); sys.exit(done.returncode)")


def _cli(args: list[str]) -> tuple[float, float, float, subprocess.CompletedProcess]:
    """Run the command line: (wall s, CPU s of it and its workers, peak RSS MB of its largest process), the result."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _MEASURED, sys.executable, "-m", "model", *args], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"model {' '.join(args)} failed (exit {done.returncode}): {done.stderr.strip().splitlines()[-2:]}")
    cpu, rss_kb = done.stderr.strip().splitlines()[-1].split()
    return wall, float(cpu), float(rss_kb) / 1024, done


def end_to_end(replications: int, profile: bool) -> None:
    """20 replications of the default scenario with the report, 1 against 2 workers, and the phases' CPU time."""
    with tempfile.TemporaryDirectory() as tmp:
        walls, timing, cpus = {}, {}, {}
        for workers in (1, 2):
            runs = []
            for _ in range(2):  # best of 2
                wall, cpu, _, done = _cli(["run", str(DEFAULT), "--replications", str(replications), "--workers", str(workers),
                                           "--brief", "off", "--quiet", "--out", tmp])
                folder = Path(done.stdout.strip().splitlines()[-1])
                runs.append((wall, json.loads((folder / "manifest.json").read_text())["timing_s"], cpu))
            walls[workers], timing[workers], cpus[workers] = min(runs, key=lambda r: r[0])
    head = min(_cli(["run", "--help"])[0] for _ in range(3))
    print(f"{replications} replications of the default scenario through the CLI, with the report (--brief off), best of 2:")
    replicating = timing[2]["replications and tables"] - timing[2]["tables"]
    sections = timing[2].get("report sections", 0.0)
    for workers in (1, 2):
        phases = ", ".join(f"{k} {v:.2f}" for k, v in timing[workers].items() if v)
        print(f"  {workers} worker{'s' if workers > 1 else ' '}: {walls[workers]:.2f} s wall (phases, s: {phases})")
    print(f"  2 workers against 1: {walls[1] / walls[2]:.2f}x faster end to end")
    tail = walls[2] - head - replicating - sections
    print(f"  the 2-worker run, {walls[2]:.2f} s wall:")
    print(f"    start-up (Python and the imports, as long as `model run --help`, best of 3): {head:.2f} s, "
          f"{100 * head / walls[2]:.0f}%")
    print(f"    replications, on the workers (with the large tables written as they come): {replicating:.2f} s, "
          f"{100 * replicating / walls[2]:.0f}%")
    print(f"    report sections, on the workers: {sections:.2f} s, {100 * sections / walls[2]:.0f}%")
    print(f"    serial tail after the replications (joining the tables, writing them, the report's own part, exit): "
          f"{tail:.2f} s, {100 * tail / walls[2]:.0f}%; with the report's sections counted too: "
          f"{100 * (tail + sections) / walls[2]:.0f}%; with the start-up counted too: {100 * (tail + head) / walls[2]:.0f}%")
    ceiling = machine_ceiling()
    print(f"  ceiling on this machine: two independent processes give {ceiling:.2f}x the throughput of one; with the "
          f"start-up alone serial and all else at that, 2 workers could be at most "
          f"{walls[1] / (head + (walls[1] - head) / ceiling):.2f}x faster than 1")
    floor = head + (cpus[2] - head) / 2  # the start-up on one core, then all the rest of its CPU on both
    print(f"  CPU of all the run's processes: 1 worker {cpus[1]:.2f} s, 2 workers {cpus[2]:.2f} s. On 2 cores the 2-worker "
          f"run needs at least {cpus[2] / 2:.2f} s even with nothing serial (at most {2 * walls[1] / cpus[2]:.2f}x faster than "
          f"1), and {floor:.2f} s with its start-up serial (at most {walls[1] / floor:.2f}x)")
    print(f"  with no start-up at all (both runs {head:.2f} s shorter), 2 workers would be {(walls[1] - head) / (walls[2] - head):.2f}x "
          f"faster than 1: what the replications, the report's sections and the tail give on their own")

    s = load_scenario(DEFAULT)
    clock = time.process_time
    t = [clock()]
    records = [simulate_replication(s, r) for r in range(replications)]
    t.append(clock())
    pieces = [summarise_replication(s, rec) for rec in records]
    t.append(clock())
    results = build_results(s, pieces)
    t.append(clock())
    spent = {}

    def report(folder):
        a = clock()
        write_report(folder)
        spent["report"] = clock() - a

    with tempfile.TemporaryDirectory() as tmp:
        write_results(results, tmp, {}, extra=report)
    t.append(clock())
    phases = {"engine (workers)": t[1] - t[0], "figures and table pieces per replication (workers)": t[2] - t[1],
              "joining the tables": t[3] - t[2], "writing the tables": t[4] - t[3] - spent["report"], "report": spent["report"]}
    print(f"  CPU time per phase, {replications} replications run serially in this process:")
    for name, sec in phases.items():
        print(f"    {name:<54}{sec:>6.2f} s  {100 * sec / sum(phases.values()):>3.0f}%")
    if profile:
        profiler = cProfile.Profile()
        with tempfile.TemporaryDirectory() as tmp:
            profiler.runcall(lambda: write_results(build_results(s, pieces), tmp, {}, extra=write_report))
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(25)
        print(text.getvalue())


def scaled_scenario(people: float) -> dict:
    """The default scenario as a raw dict with every origin's people scaled to ``people`` in all, and booths,
    inspectors, holding areas and buses scaled alike (a triggered bus may leave ``k`` times as often, so bus passengers
    are not left at their stops); approach lanes grow with the square root of the factor, so the queues stay in tens of
    km rather than hundreds. Each party then meets the same surge at every size: the same shares cross, give up or
    are still waiting at the end."""
    raw = read_scenario_dict(DEFAULT)
    k = people / sum(o["people"] for o in raw["origins"])
    for o in raw["origins"]:
        o["people"] = round(o["people"] * k)
        for line in o.get("buses", []):
            line["min_headway_min"] = line.get("min_headway_min", 0.0) / k
    for c in raw["crossings"]:
        for mode in ("car", "bus", "foot"):
            channel = c.get(mode)
            if channel:
                channel["booths"] = max(1, round(channel["booths"] * k))
                for step in channel.get("booth_schedule", []):
                    step["booths"] = max(1, round(step["booths"] * k))
        if "inspection" in c:
            for key in ("booths", "holding_capacity"):
                c["inspection"][key] = max(1, round(c["inspection"][key] * k))
        c["approach_lanes"] = max(1, round(k**0.5))
    raw["name"] = f"kharkiv_2022_x{k:.0f}"
    raw["title"] = f"{raw.get('title') or raw['name']}, scaled to {people:,.0f} people (benchmark)"
    return raw


#: Run in a fresh interpreter: the engine on the scaled default scenario; prints parties, CPU s and peak RSS MB.
_ENGINE_CHILD = ("import json, resource, sys, time; sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[1] + '/scripts'); "
                 "from bench import scaled_scenario; from model.engine import Surge; from model.scenario import scenario_from_dict; "
                 "s = scenario_from_dict(scaled_scenario(float(sys.argv[2])), 'bench'); t0 = time.process_time(); "
                 "rec = Surge(s, 0).run(); cpu = time.process_time() - t0; "
                 "print(json.dumps([len(rec.parties['party_id']), cpu, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024]))")


#: The plain loop's drive to the queue in the scaling comparison (minutes, median).
LOOP_ROAD_MIN = 500.0
#: Run in a fresh interpreter: the plain loop, arrivals and booths of the M/M/3 scenario times argv[2], with a drive first
#: and a horizon giving ~38,000 customers times argv[2]; prints CPU seconds per customer.
_LOOP_CHILD = ("import sys, time; sys.path.insert(0, sys.argv[1] + '/scripts'); from bench import LOOP_ROAD_MIN, MMC, "
               "load_scenario, mmc_parameters, plain_mmc; lam, service, servers, _ = mmc_parameters(load_scenario(MMC)); "
               "k = int(sys.argv[2]); t0 = time.process_time(); "
               "n = plain_mmc(lam * k, service, servers * k, 38_000 / lam, 1, LOOP_ROAD_MIN); print((time.process_time() - t0) / n)")


def _in_fresh_interpreter(code: str, arg: float) -> str:
    """The last line ``code`` prints when run in a new Python process with this checkout and ``arg`` as arguments."""
    done = subprocess.run([sys.executable, "-c", code, str(ROOT), str(arg)], capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def _loop_alone(scale: int) -> float:
    """CPU seconds per customer of the plain loop with a drive first, ``scale`` times the M/M/3's arrivals and booths, in
    a fresh interpreter."""
    return float(_in_fresh_interpreter(_LOOP_CHILD, scale))


def _engine_alone(people: float) -> tuple[int, float, float]:
    """The engine on the default scenario scaled to ``people`` in a fresh interpreter (nothing else in its
    memory): parties, CPU seconds, peak RSS MB."""
    parties, cpu, rss = json.loads(_in_fresh_interpreter(_ENGINE_CHILD, people))
    return parties, cpu, rss


def engine_scaling(loop_s: float, people: tuple[float, ...] = (1e5, 3e5, 1e6), repeats: int = 2) -> None:
    """The engine alone on the default scenario scaled to ``people``, each size in fresh interpreters (best
    CPU of ``repeats``; peak RSS of that process): CPU per party should not grow with the size of the surge."""
    print(f"engine scaling (default scenario scaled; one replication; a fresh interpreter each, best of {repeats}):")
    print(f"{'people':>10}{'parties':>10}{'CPU s':>8}{'us/party':>10}{'us/person':>10}{'x loop':>8}{'peak RSS MB':>13}")
    base = None
    for n in people:
        parties, cpu, rss = min((_engine_alone(n) for _ in range(repeats)), key=lambda r: r[1])
        per = cpu / parties * 1e6
        base = base or per
        person = cpu / n * 1e6
        print(f"{n:>10,.0f}{parties:>10,}{cpu:>8.1f}{per:>10.1f}{person:>10.1f}{person / (loop_s * 1e6):>8.2f}{rss:>13,.0f}"
              f"   {per / base:.2f}x the smallest per party")
    print(f"  (x loop: CPU per person against the plain SimPy loop's per customer, {loop_s * 1e6:.1f} us)")
    small, large = (min(_loop_alone(k) for _ in range(repeats)) for k in (1, 10))
    print(f"  the plain SimPy loop grown the same way (M/M/3 -> 10x the arrivals and booths; each customer first drives "
          f"~{LOOP_ROAD_MIN / 60:.1f} h, so ~400 then ~4,000 are on the road at once, as parties in the scaled default "
          f"scenario): {small * 1e6:.1f} -> {large * 1e6:.1f} us per customer, {large / small:.2f}x")


def cli_million(loop_s: float, people: float = 1e6) -> None:
    """One replication of the 1M-person surge end to end through the command line: wall and CPU time, peak RSS."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "million.toml"
        path.write_text(tomli_w.dumps(scaled_scenario(people)), encoding="utf-8")
        wall, cpu, rss, done = _cli(["run", str(path), "--replications", "1", "--workers", "1", "--brief", "off", "--quiet",
                                     "--out", str(Path(tmp) / "out")])
        timing = json.loads((Path(done.stdout.strip().splitlines()[-1]) / "manifest.json").read_text())["timing_s"]
    person = cpu / people * 1e6
    print(f"{people:,.0f} people, one replication through the CLI (tables and report): {wall:.1f} s wall, {cpu:.1f} s CPU, "
          f"peak RSS {rss:,.0f} MB; CPU {person:.1f} us per person, {person / (loop_s * 1e6):.2f}x the loop's per customer")
    print("  phases (wall s, from manifest.json): " + ", ".join(f"{k} {v:.1f}" for k, v in timing.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=20, help="replications for the scaling figures (default 20)")
    parser.add_argument("--profile", action="store_true", help="also profile the serial tail (joining, writing, report)")
    parser.add_argument("--scaled-scenario", type=float, metavar="PEOPLE",
                        help="only print the default scenario scaled to PEOPLE people as TOML (e.g. 1e6), and exit")
    args = parser.parse_args()
    if args.scaled_scenario:
        print(tomli_w.dumps(scaled_scenario(args.scaled_scenario)), end="")
        return
    load = os.getloadavg()
    print(f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    loop_s = cost_per_party()
    engine_scaling(loop_s)
    cli_million(loop_s)
    end_to_end(args.replications, args.profile)


if __name__ == "__main__":
    main()
