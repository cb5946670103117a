#!/usr/bin/env python3
"""A UDP relay that impairs what it forwards, as `tc netem reorder/duplicate` would (this machine's
kernel has no sch_netem): each datagram is forwarded once, or with probability DUP twice, or with
probability REORDER held back and sent after the next 1-8 datagrams. Counts what it did.

    udp-impair-relay.py LISTEN_PORT TARGET_PORT [REORDER] [DUP] [SEED]

Stops after 3 s without traffic once something has passed, flushing what it holds, and prints one
JSON line: datagrams received, sent, reordered, duplicated.
"""
import json
import random
import socket
import sys

listen_port, target_port = int(sys.argv[1]), int(sys.argv[2])
reorder = float(sys.argv[3]) if len(sys.argv) > 3 else 0.05
duplicate = float(sys.argv[4]) if len(sys.argv) > 4 else 0.01
rng = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else 1)
inbound = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
inbound.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 20)
inbound.bind(("127.0.0.1", listen_port))
outbound = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
target = ("127.0.0.1", target_port)
held = []  # (datagrams still to pass before release, bytes)
counts = {"received": 0, "sent": 0, "reordered": 0, "duplicated": 0}
print("ready", flush=True)


def send(data):
    outbound.sendto(data, target)
    counts["sent"] += 1


while True:
    inbound.settimeout(3.0 if counts["received"] else 120.0)
    try:
        data = inbound.recv(65536)
    except socket.timeout:
        break
    counts["received"] += 1
    if rng.random() < reorder:
        held.append([1 + rng.randrange(8), data])
        counts["reordered"] += 1
    else:
        send(data)
        if rng.random() < duplicate:
            send(data)
            counts["duplicated"] += 1
    for entry in held:
        entry[0] -= 1
    for entry in [e for e in held if e[0] <= 0]:
        held.remove(entry)
        send(entry[1])
for _, data in held:
    send(data)
print(json.dumps(counts), flush=True)
