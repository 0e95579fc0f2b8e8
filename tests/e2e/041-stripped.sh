# SPDX-License-Identifier: MIT
# A binary stripped with strip(1), only .dynsym left (tests/progs/stripme.c):
# the hot code has no symbol and must show as stripme+0xOFFSET, with an
# offset inside the hot function; never as the exported function that sits
# right below it in memory.

# the layout this case relies on, from the unstripped copy
read -r vis_start vis_size < <(nm -S "$BIN/stripme.full" | awk '$4 == "visible_function" { print $1, $2 }')
read -r hot_start hot_size < <(nm -S "$BIN/stripme.full" | awk '$4 == "hidden_hot_function" { print $1, $2 }')
[ -n "${hot_start:-}" ] && [ -n "${vis_start:-}" ] || fail "setup: symbols not found in stripme.full"
[ $((16#$hot_start)) -ge $((16#$vis_start + 16#$vis_size)) ] ||
    fail "setup: hidden_hot_function (0x$hot_start) is not after visible_function (0x$vis_start)"
if readelf -S "$BIN/stripme" | grep -q '\.symtab'; then fail "setup: stripme still has a symbol table"; fi
nm -D "$BIN/stripme" | grep -q visible_function || fail "setup: visible_function is not in .dynsym"

profile p.bin "$BIN/stripme" 600 >out.txt 2>err.txt
expect_stderr_clean err.txt
flat_rows rows p.bin
head -n 8 rows.txt
total=$(sum_self rows)
if grep -q 'hidden_hot_function' rows; then fail "a stripped binary cannot know hidden_hot_function"; fi
vis=$(self_of rows visible_function)
[ "$(percent "$vis" "$total")" -le 5 ] ||
    fail "visible_function has $vis of $total samples: the hot code was given the nearest exported name"
# module+0xOFFSET rows whose offset lies in the hot function
lo=$((16#$hot_start)) hi=$((16#$hot_start + 16#$hot_size))
in_hot=$(awk -F'\t' -v lo="$lo" -v hi="$hi" '
    $3 ~ /^stripme\+0x[0-9a-fA-F]+$/ {
        off = 0; h = tolower(substr($3, 11))
        for (i = 1; i <= length(h); i++) off = off * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
        if (off >= lo && off < hi) s += $1
    } END { print s + 0 }' rows)
log "samples at stripme+0x... inside [0x$hot_start, +0x$hot_size): $in_hot of $total"
[ "$(percent "$in_hot" "$total")" -ge 70 ] ||
    fail "only $in_hot of $total samples are shown as stripme+0xOFFSET within hidden_hot_function (0x$hot_start..+0x$hot_size)"
# main is in .dynsym? no: it must not be named either unless a symbol covers it
