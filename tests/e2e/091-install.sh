# SPDX-License-Identifier: MIT
# make install with PREFIX and DESTDIR; the installed sprof-record finds the
# installed library; make uninstall removes what install put there.
# timeout: 240

command -v make >/dev/null 2>&1 || skip "make is not installed"
inst() {
    make -s -C "$SRC" BUILD="$BUILD" SAN="$SAN" CC="$CC" "$@" >make.log 2>&1 ||
        fail "make $* failed: $(tail -n 5 make.log)"
}

# DESTDIR staging: everything under it, nothing else
inst install DESTDIR="$CASE_DIR/stage" PREFIX=/opt/sprof
for f in bin/sprof-report bin/sprof-record lib/libsprof.so share/man/man1/sprof-report.1 \
    share/man/man1/sprof-record.1 share/man/man5/sprof-format.5 share/man/man7/libsprof.7; do
    [ -e "stage/opt/sprof/$f" ] || fail "make install did not install $f (files: $(cd stage && find . -type f | tr '\n' ' '))"
done
[ -x stage/opt/sprof/bin/sprof-record ] || fail "the installed sprof-record is not executable"
if grep -q '@LIBDIR@' stage/opt/sprof/bin/sprof-record; then fail "@LIBDIR@ was not replaced"; fi
grep -q "/opt/sprof/lib" stage/opt/sprof/bin/sprof-record || fail "the installed sprof-record does not know /opt/sprof/lib"

# a real prefix: the installed tools work from there, found by LIBDIR
inst install PREFIX="$CASE_DIR/prefix"
pre=""
case $PRELOAD in *" "*) pre=${PRELOAD% *} ;; esac
mkdir run
# shellcheck disable=SC2086
(cd run && env ${pre:+LD_PRELOAD="$pre"} $HOST_ENV "$CASE_DIR/prefix/bin/sprof-record" -o i.bin "$BIN/target" >/dev/null 2>err.txt) ||
    fail "the installed sprof-record failed: $(cat run/err.txt)"
[ -s run/i.bin ] || fail "the installed sprof-record wrote no profile"
"$CASE_DIR/prefix/bin/sprof-report" flat run/i.bin >flat.txt 2>err.txt ||
    fail "the installed sprof-report failed: $(cat err.txt)"
grep -qw target_hot_function flat.txt || fail "the installed tools did not profile target"
if command -v man >/dev/null 2>&1; then
    MANPATH="$CASE_DIR/prefix/share/man" man -P cat sprof-report >man.txt 2>/dev/null ||
        fail "man sprof-report does not find the installed page"
    grep -q flat man.txt || fail "the installed sprof-report(1) says nothing about flat"
fi

inst uninstall PREFIX="$CASE_DIR/prefix"
left=$(cd prefix && find . -type f)
[ -z "$left" ] || fail "make uninstall left: $left"
