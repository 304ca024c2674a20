#!/usr/bin/env python3
"""The client of the ECMP scale-out tests (test/kernel/e2e/ecmp.ts).

    ecmp-client.py VIP --conns N [--ports 80,81] [--loop-port 80]

Opens N keep-alive HTTP connections to VIP on each port (a thread each) and
sends a request on each every 0.2 s until told `STOP S` on stdin (then S
seconds more; 300 s at most in all); beside them a request loop opens a new
connection every 0.05 s to VIP:loop-port. Prints READY once every
connection has had its first answer, then at the end one JSON line:

    {"ports": {"80": {"n", "broken", "why", "same_rs", "moved_rs", "max_stall_s"}, ...},
     "loop": {"requests", "failed", "longest_stall_s", "servers": {name: count}}}

A connection is broken when a request on it fails (reset, timeout); its
stall is the longest time between two answers.
"""
import argparse
import http.client
import json
import sys
import threading
import time


def one(vip, port, deadline, started, out):
    """One keep-alive connection, a request every 0.2 s until deadline[0] (STOP moves it)."""
    conn = http.client.HTTPConnection(vip, port, timeout=15)
    first = last = broken = lastok = None
    stall = 0.0
    while time.time() < deadline[0]:
        try:
            conn.request("GET", "/")
            body = conn.getresponse().read().decode().strip()
            now = time.time()
            if lastok is not None:
                stall = max(stall, now - lastok)
            lastok = now
            first = first or body
            last = body
        except Exception as e:  # noqa: BLE001 - any failure breaks the connection
            broken = type(e).__name__
            break
        if started is not None:
            started.release()
            started = None
        time.sleep(0.2)
    if started is not None:
        started.release()
    out.append({"first": first, "last": last, "broken": broken, "stall": stall})


def held(vip, port, n, deadline, ready):
    """N connections on their own threads (a hung one holds up none of the others)."""
    out = []
    threads = [threading.Thread(target=one, args=(vip, port, deadline, ready, out)) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [c for c in out if not c["broken"]]
    return {
        "n": n,
        "broken": n - len(ok),
        "why": sorted({c["broken"] for c in out if c["broken"]}),
        "same_rs": sum(1 for c in ok if c["first"] == c["last"]),
        "moved_rs": sum(1 for c in ok if c["first"] != c["last"]),
        "max_stall_s": round(max([c["stall"] for c in out] + [0.0]), 2),
    }


def loop(vip, port, deadline, out):
    requests = failed = 0
    servers = {}
    lastok = time.time()
    longest = 0.0
    while time.time() < deadline[0]:
        requests += 1
        try:
            c = http.client.HTTPConnection(vip, port, timeout=3)
            c.request("GET", "/", headers={"Connection": "close"})
            body = c.getresponse().read().decode().strip()
            c.close()
            now = time.time()
            longest = max(longest, now - lastok)
            lastok = now
            servers[body] = servers.get(body, 0) + 1
        except Exception:  # noqa: BLE001 - a failed request is counted
            failed += 1
        time.sleep(0.05)
    longest = max(longest, time.time() - lastok)
    out["loop"] = {"requests": requests, "failed": failed, "longest_stall_s": round(longest, 2), "servers": servers}


def stop_on_stdin(deadline):
    for line in sys.stdin:
        if line.startswith("STOP "):
            deadline[0] = min(deadline[0], time.time() + float(line.split()[1]))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("vip")
    p.add_argument("--conns", type=int, default=24)
    p.add_argument("--ports", default="80,81")
    p.add_argument("--loop-port", type=int, default=80)
    a = p.parse_args()
    ports = [int(x) for x in a.ports.split(",")]
    deadline = [time.time() + 300]
    ready = threading.Semaphore(0)
    out = {"ports": {}}
    threads = []
    for port in ports:
        t = threading.Thread(target=lambda port=port: out["ports"].__setitem__(str(port), held(a.vip, port, a.conns, deadline, ready)))
        t.start()
        threads.append(t)
    for _ in range(len(ports) * a.conns):
        ready.acquire()
    print("READY", flush=True)
    threading.Thread(target=stop_on_stdin, args=(deadline,), daemon=True).start()
    lt = threading.Thread(target=loop, args=(a.vip, a.loop_port, deadline, out))
    lt.start()
    threads.append(lt)
    for t in threads:
        t.join()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    sys.exit(main())
