"""Local UDP ports for SIPp: free ports reserved per call, and the agents' fixed ports.

Each call's SIP and RTP ports are picked free from 20000-39999 (never 5060, never
Asterisk's RTP range 10000-10999, never the agents' 5101-5150), and reserved in this process
until the call ends, so concurrent calls do not collide.

Agents 80NN are SIPp UASs on 127.0.0.1:(5100 + NN), the static contacts of pjsip.conf.
"""

from __future__ import annotations

import random
import socket
import threading

from testbed.sipp_error import SippError

LOCAL_IP = "127.0.0.1"
AGENT_FIRST, AGENT_LAST = 8001, 8050
AGENT_BASE_PORT = 5100  # agent 80NN answers on 5100 + NN

_PORT_RANGE = (20000, 39999)
_reserved: set[int] = set()
_reserved_lock = threading.Lock()


def udp_port_bindable(port: int) -> bool:
    """Whether UDP ``LOCAL_IP:port`` can be bound right now (it is briefly bound to check)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((LOCAL_IP, port))
        except OSError:
            return False
    return True


def udp_port_listening(port: int) -> bool:
    """Whether some process has a UDP socket bound to ``port``, read from /proc/net/udp.

    Unlike a test bind, looking never takes the port away from a process about to bind it.
    """
    wanted = f":{port:04X}"
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(table) as rows:
                next(rows, None)  # header
                if any(row.split()[1].endswith(wanted) for row in rows):
                    return True
        except OSError:
            continue
    return False


def reserve_ports(count: int = 1, *, even: bool = False) -> int:
    """Reserve ``count`` consecutive free UDP ports on the loopback; return the first.

    ``even``: the first port is even (an RTP port; SIPp also binds media port + 2).
    Release with :func:`release_ports`.
    """
    rng = random.SystemRandom()
    for _ in range(500):
        first = rng.randrange(_PORT_RANGE[0], _PORT_RANGE[1] - count)
        if even:
            first -= first % 2
        ports = range(first, first + count)
        with _reserved_lock:
            if any(p in _reserved for p in ports):
                continue
            if all(udp_port_bindable(p) for p in ports):
                _reserved.update(ports)
                return first
    raise SippError(f"no {count} free consecutive UDP ports in {_PORT_RANGE}")


def release_ports(first: int, count: int = 1) -> None:
    with _reserved_lock:
        _reserved.difference_update(range(first, first + count))


def agent_port(agent: str) -> int:
    """The SIP port agent 80NN answers on: 5100 + NN (8001 -> 5101 ... 8050 -> 5150)."""
    number = int(agent)
    if not AGENT_FIRST <= number <= AGENT_LAST:
        raise ValueError(f"agent {agent!r} is not one of {AGENT_FIRST}-{AGENT_LAST}")
    return AGENT_BASE_PORT + number - 8000
