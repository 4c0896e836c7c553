#!/usr/bin/env python3
"""CPU seconds of a process from /proc (ops/bench/e2e.sh).

  proc-cpu.py total PID     user + system CPU seconds of the process
  proc-cpu.py faults PID    minor page faults of the process so far
  proc-cpu.py threads PID   per thread name (runs of digits folded to #), CPU seconds and
                            thread count, busiest first, as Markdown table rows
  proc-cpu.py states PID SECONDS [INTERVAL_MS]
                            samples the threads' states for SECONDS: per thread name, the share
                            of samples running or runnable (R), sleeping (S, with the kernel
                            function it sleeps in) and in disk wait (D)
  proc-cpu.py timeline PID[,PID...] SECONDS STOPFILE
                            until STOPFILE exists, the cores each process used in every
                            SECONDS (the last, shorter interval too, unless under 0.5 s): one
                            line per PID
"""
import os
import re
import sys
from collections import defaultdict

TICKS = os.sysconf("SC_CLK_TCK")


def fields(path):
    """The name and the fields after it of a /proc stat file (state, field 3 in proc(5), first)."""
    with open(path) as f:
        text = f.read()
    return text[text.index("(") + 1:text.rindex(")")], text[text.rindex(")") + 2:].split()


def stat(path):
    name, f = fields(path)
    # utime 14, stime 15 (1-based, proc(5)).
    return name, (int(f[11]) + int(f[12])) / TICKS


def states(pid, seconds, interval):
    import time
    counts = defaultdict(lambda: defaultdict(int))
    end = time.monotonic() + seconds
    samples = 0
    while time.monotonic() < end:
        samples += 1
        for tid in os.listdir("/proc/%s/task" % pid):
            try:
                with open("/proc/%s/task/%s/stat" % (pid, tid)) as f:
                    text = f.read()
                with open("/proc/%s/task/%s/wchan" % (pid, tid)) as f:
                    wchan = f.read().strip() or "-"
            except OSError:
                continue
            name = re.sub(r"\d+", "#", text[text.index("(") + 1:text.rindex(")")])
            state = text[text.rindex(")") + 2]
            key = state if state != "S" else "S:" + wchan
            counts[name][key] += 1
        time.sleep(interval / 1000)
    for name, c in sorted(counts.items(), key=lambda kv: -sum(v for k, v in kv[1].items() if k == "R")):
        total = sum(c.values())
        parts = ", ".join("%s %.0f%%" % (k, 100 * v / total) for k, v in sorted(c.items(), key=lambda kv: -kv[1]))
        print("| `%s` | %s |" % (name, parts))


def timeline(pids, seconds, stop):
    import time
    def total(pid):
        try:
            return stat("/proc/%s/stat" % pid)[1]
        except OSError:
            return None
    rows = {pid: [] for pid in pids}
    last, before = time.monotonic(), {pid: total(pid) for pid in pids}
    done = False
    while not done:
        while time.monotonic() - last < seconds and not os.path.exists(stop):
            time.sleep(0.05)
        done = os.path.exists(stop)
        now = time.monotonic()
        if done and now - last < 0.5 and rows[pids[0]]:
            break  # the stop came just after an interval: no column for a sliver
        for pid in pids:
            t = total(pid)
            rows[pid].append("-" if t is None or before[pid] is None else "%.2f" % ((t - before[pid]) / (now - last)))
            before[pid] = t
        last = now
    for pid in pids:
        print(" ".join(rows[pid]))


def main():
    mode, pid = sys.argv[1], sys.argv[2]
    if mode == "timeline":
        timeline(pid.split(","), float(sys.argv[3]), sys.argv[4])
        return
    if mode == "states":
        states(pid, float(sys.argv[3]), float(sys.argv[4]) if len(sys.argv) > 4 else 20)
        return
    if mode == "total":
        print("%.2f" % stat("/proc/%s/stat" % pid)[1])
        return
    if mode == "faults":
        print(fields("/proc/%s/stat" % pid)[1][7])  # minflt, field 10
        return
    groups = defaultdict(lambda: [0.0, 0])
    for tid in os.listdir("/proc/%s/task" % pid):
        try:
            name, seconds = stat("/proc/%s/task/%s/stat" % (pid, tid))
        except OSError:
            continue
        g = groups[re.sub(r"\d+", "#", name)]
        g[0] += seconds
        g[1] += 1
    for name, (seconds, count) in sorted(groups.items(), key=lambda kv: -kv[1][0]):
        if seconds >= 0.01:
            print("| `%s` | %d | %.2f |" % (name, count, seconds))


if __name__ == "__main__":
    main()
