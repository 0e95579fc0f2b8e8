# SPDX-License-Identifier: MIT
# pyloop: a pure-Python loop, about one second of CPU in the interpreter's
# eval loop. Usage: python3 pyloop.py [N]   (N iterations, default 20000000)
import sys


def loop(n):
    x = 0
    for i in range(n):
        x = (x * 31 + i) % 1000003
    return x


n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000000
print("pyloop:", loop(n))
