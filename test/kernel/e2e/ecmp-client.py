#!/usr/bin/env python3
"""The client of the ECMP scale-out tests (test/kernel/e2e/ecmp.ts).

    ecmp-client.py VIP --conns N --seconds T [--ports 80,81] [--loop-port 80]

Opens N keep-alive HTTP connections to VIP on each port and sends a request
on each every 0.2 s for T seconds; beside them a request loop opens a new
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


def held(vip, port, n, deadline, ready):
    conns = [http.client.HTTPConnection(vip, port, timeout=15) for _ in range(n)]
    first, last, broken = [None] * n, [None] * n, [None] * n
    stall, lastok = [0.0] * n, [None] * n
    started = False
    while time.time() < deadline:
        for i in range(n):
            if broken[i]:
                continue
            try:
                conns[i].request("GET", "/")
                body = conns[i].getresponse().read().decode().strip()
                now = time.time()
                if lastok[i] is not None:
                    stall[i] = max(stall[i], now - lastok[i])
                lastok[i] = now
                first[i] = first[i] or body
                last[i] = body
            except Exception as e:  # noqa: BLE001 - any failure breaks the connection
                broken[i] = type(e).__name__
        if not started:
            started = True
            ready.release()
        time.sleep(0.2)
    ok = [i for i in range(n) if not broken[i]]
    return {
        "n": n,
        "broken": n - len(ok),
        "why": sorted({b for b in broken if b}),
        "same_rs": sum(1 for i in ok if first[i] == last[i]),
        "moved_rs": sum(1 for i in ok if first[i] != last[i]),
        "max_stall_s": round(max(stall), 2),
    }


def loop(vip, port, deadline, out):
    requests = failed = 0
    servers = {}
    lastok = time.time()
    longest = 0.0
    while time.time() < deadline:
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


def main():
    p = argparse.ArgumentParser()
    p.add_argument("vip")
    p.add_argument("--conns", type=int, default=24)
    p.add_argument("--seconds", type=float, default=15)
    p.add_argument("--ports", default="80,81")
    p.add_argument("--loop-port", type=int, default=80)
    a = p.parse_args()
    ports = [int(x) for x in a.ports.split(",")]
    deadline = time.time() + a.seconds
    ready = threading.Semaphore(0)
    out = {"ports": {}}
    threads = []
    for port in ports:
        t = threading.Thread(target=lambda port=port: out["ports"].__setitem__(str(port), held(a.vip, port, a.conns, deadline, ready)))
        t.start()
        threads.append(t)
    for _ in ports:
        ready.acquire()
    print("READY", flush=True)
    lt = threading.Thread(target=loop, args=(a.vip, a.loop_port, deadline, out))
    lt.start()
    threads.append(lt)
    for t in threads:
        t.join()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    sys.exit(main())
