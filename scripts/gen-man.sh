#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Regenerates the man pages (man/*.1, *.5, *.7) from their Markdown sources
# (man/*.md) with pandoc. The generated roff is committed, so that building
# and installing sprof never needs pandoc; run this after editing a .md.
# Usage: scripts/gen-man.sh [--check]   (--check: fail if a page is stale)
set -eu

cd "$(dirname "$0")/../man"
command -v pandoc >/dev/null 2>&1 || {
    echo "gen-man.sh: pandoc is not installed (apt-get install pandoc)" >&2
    exit 1
}
status=0
for md in *.md; do
    section=$(sed -n 's/^section: *\([0-9]\).*/\1/p' "$md" | head -n 1)
    [ -n "$section" ] || { echo "gen-man.sh: $md has no 'section:'" >&2; exit 1; }
    page=${md%.md}.$section
    tmp=$(mktemp)
    pandoc --standalone --columns=60 --from markdown-smart --to man "$md" -o "$tmp"
    if [ "${1:-}" = --check ]; then
        if ! cmp -s "$tmp" "$page"; then
            echo "gen-man.sh: man/$page is out of date with man/$md" >&2
            status=1
        fi
        rm -f "$tmp"
    else
        mv "$tmp" "$page"
        chmod 644 "$page"
        echo "man/$page"
    fi
done
exit $status
