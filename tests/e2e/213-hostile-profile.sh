# SPDX-License-Identifier: MIT
# The reader trusts nothing (ARCHITECTURE invariant 4, issue 5 item 12):
# files built to make the reader's work grow faster than their size are
# read in bounded time and memory.
#   crc-bomb.bin   1 MB of chunk headers, each claiming the rest of the file:
#                  checksumming each candidate was quadratic (49 s before
#                  the reader bounded its checksum work)
#   map-bomb.bin   20,000 mappings of one address range by two files in
#                  turn: the epochs of ambiguous mappings were found pair by
#                  pair, quadratic in time and memory (gigabytes)
#   empty.bin      records with nothing in them (a stack of no frames, a
#                  SAMPLES record of no samples: pointer arithmetic on NULL
#                  under make check SAN=address,undefined) and a path with a
#                  newline and an escape sequence, which must not reach the
#                  function names of the reports
# Each must end within 20 s: exit 0 with its report, or 2 with an error.
# timeout: 120

"$PY" - <<'PYEOF'
import struct

T = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    T.append(c)

def crc32c(crc, b):
    crc ^= 0xFFFFFFFF
    for x in b:
        crc = T[(crc ^ x) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF

def uv(v):
    o = bytearray()
    while v >= 0x80:
        o.append((v & 0x7F) | 0x80)
        v >>= 7
    o.append(v)
    return bytes(o)

def s(b):
    return uv(len(b)) + b

def rec(t, body):
    return uv(t) + uv(len(body)) + body

HEADER = b"\x89SPROF\r\n" + struct.pack("<HHIQII", 1, 32, 0, 1, 1, 0)

def chunk(payload, seq=0):
    h = struct.pack("<IIIII", 0x4B435053, 0, len(payload), len(payload), seq)
    return h + struct.pack("<I", crc32c(crc32c(0, h), payload)) + payload

PROCESS = rec(1, uv(1) + uv(0) + uv(0) + uv(1) + s(b"/x") + uv(0))

# chunk headers (codec none), each claiming the rest of the file, bad CRCs
n = 1000000 // 24
with open("crc-bomb.bin", "wb") as f:
    f.write(HEADER)
    for i in range(n):
        left = 24 * (n - i - 1)
        f.write(struct.pack("<IIIIII", 0x4B435053, 0, left, left, 0, 0))

# one range mapped 20,000 times, by /a and /b in turn; one stack in it and
# a sample at each mapping's time
p = bytearray(PROCESS)
for i in range(20000):
    p += rec(5, uv(i + 1) + uv(0x1000) + uv(0x2000) + uv(0) + uv(5) + uv(0) + s(b"")
             + s(b"/a" if i % 2 else b"/b"))
p += rec(7, uv(0) + uv(0) + uv(1) + uv(0x1800))
p += rec(8, uv(1) + uv(1) + uv(1000) + b"".join(uv(20) + uv(1000) + uv(0) for _ in range(1000)))
open("map-bomb.bin", "wb").write(HEADER + chunk(bytes(p)))

# empty records, and control characters in a path and a thread name
p = bytearray(PROCESS)
p += rec(8, uv(1) + uv(5) + uv(0))                      # SAMPLES of no samples
p += rec(7, uv(0) + uv(0) + uv(0))                      # STACK of no frames
p += rec(5, uv(1) + uv(0x1000) + uv(0x2000) + uv(0) + uv(5) + uv(0) + s(b"")
         + s(b"/tmp/a\nb\x1b[31m"))
p += rec(3, uv(1) + uv(1) + s(b"line\nbreak"))
p += rec(7, uv(1) + uv(0) + uv(1) + uv(0x1800))
p += rec(8, uv(1) + uv(10) + uv(2) + uv(1) + uv(1000) + uv(0) + uv(1) + uv(1000) + uv(1))
open("empty.bin", "wb").write(HEADER + chunk(bytes(p)))
PYEOF

# run WANT FILE COMMAND: sprof-report COMMAND FILE ends within 20 s with
# exit status WANT and nothing but sprof's own lines on stderr
run() {
    local want=$1 f=$2 cmd=$3 rc=0 t0
    t0=$(date +%s%N)
    timeout -k 5 20 "$REPORT" "$cmd" "$f" >"$f.$cmd.out" 2>"$f.$cmd.err" || rc=$?
    log "$cmd $f: exit $rc in $((($(date +%s%N) - t0) / 1000000)) ms, $(grep -c . "$f.$cmd.err" || true) lines on stderr"
    case $rc in
    124 | 137) fail "sprof-report $cmd $f did not finish in 20 s" ;;
    "$want") ;;
    *) fail "sprof-report $cmd $f: exit status $rc, want $want: $(head -c 800 "$f.$cmd.err")" ;;
    esac
    if grep -v '^sprof-report:' "$f.$cmd.err" | grep -q .; then
        fail "sprof-report $cmd $f: foreign output on stderr: $(head -c 800 "$f.$cmd.err")"
    fi
}

run 2 crc-bomb.bin info
grep -q "crc-bomb.bin': no intact data" crc-bomb.bin.info.err || fail "crc-bomb.bin: no error naming the file"
for cmd in info flat; do
    run 0 map-bomb.bin "$cmd"
    run 0 empty.bin "$cmd"
done
grep -q 'a+0x800' map-bomb.bin.flat.out || fail "map-bomb.bin: the samples in /a are not reported"
grep -q 'b+0x800' map-bomb.bin.flat.out || fail "map-bomb.bin: the samples in /b are not reported"
# no function name breaks a line: one stack and a count per line of folded
report folded empty.bin >empty.folded
cat -A empty.folded
[ "$(grep -c . empty.folded)" -eq 2 ] || fail "empty.bin: folded has $(grep -c . empty.folded) lines, want 2"
if grep -q $'\x1b' empty.folded; then
    fail "a control character of a mapping's path reached a function name"
fi
