#!/usr/bin/env python3
# Junk Ethernet frames written into a TAP device from the host side (an AF_PACKET socket bound to
# the device: what the kernel transmits on a TAP reaches the program holding its descriptor — the
# leaf). Run it inside the leaf's network namespace, as root:
#
#   python3 tools/fuzz/tap-junk.py DEVICE OUR_MAC COUNT SEED
#
# OUR_MAC is the leaf's MAC on the network (12 hex digits). Frames: a header and nothing else
# (the kernel refuses anything shorter), other source MACs, random unicast and multicast
# destinations from our MAC, broken ARP, random bytes up to the device MTU. Prints the count of
# each kind sent, and of sends the kernel refused, as JSON.

import json
import random
import socket
import sys
import time


def main() -> None:
    device, our_mac, count, seed = sys.argv[1], bytes.fromhex(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    rng = random.Random(seed)
    mtu = int(open(f'/sys/class/net/{device}/mtu').read())
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((device, 0))

    def mac(multicast: bool) -> bytes:
        b = bytearray(rng.randbytes(6))
        b[0] = (b[0] | 1) if multicast else (b[0] & 0xFE)
        return bytes(b)

    kinds = {
        'header-only': lambda: rng.randbytes(14),
        'foreign-source-mac': lambda: mac(False) + mac(False) + b'\x88\xb5' + rng.randbytes(rng.randrange(200)),
        'random-unicast': lambda: mac(False) + our_mac + rng.choice([b'\x08\x00', b'\x86\xdd', b'\x88\xb5']) + rng.randbytes(rng.randrange(300)),
        'random-multicast': lambda: mac(True) + our_mac + b'\x88\xb5' + rng.randbytes(rng.randrange(300)),
        'broken-arp': lambda: b'\xff' * 6 + our_mac + b'\x08\x06' + rng.randbytes(rng.randrange(40)),
        'random-bytes': lambda: rng.randbytes(rng.randrange(14, mtu + 14)),
    }
    names = sorted(kinds)
    sent = {k: 0 for k in names}
    errors = 0
    for i in range(count):
        if i % 20 == 19:
            time.sleep(0.01)  # about 2000 frames/s: a flood would only fill the device's queue
        k = rng.choice(names)
        try:
            s.send(kinds[k]())
            sent[k] += 1
        except OSError:
            errors += 1
    print(json.dumps({'sent': sent, 'errors': errors}))


main()
