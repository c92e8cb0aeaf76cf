"""A free loopback port, picked as tests/support/free_port.sh picks them."""

import random
import socket


def free_loopback_port():
    # Below the kernel's ephemeral range (32768 and up), so no client connection of a test running
    # beside this one takes the port before the server binds it.
    for candidate in random.sample(range(20000, 32000), 50):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return candidate
    raise RuntimeError("no free port in 20000-32000")
