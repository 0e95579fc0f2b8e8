# SPDX-License-Identifier: MIT
# Output naming: the default profile.bin, %p expanded to the pid, an older
# file kept as NAME.old, a symlink at the output path never followed, the
# file mode from the umask, and descendants writing beside the top's file
# even after a chdir.

export TARGET_MS=100

# default name
mkdir default
(cd default && env LD_PRELOAD="$PRELOAD" $HOST_ENV "$BIN/target" >/dev/null 2>err.txt)
[ -s default/profile.bin ] || fail "no profile.bin written by default (files: $(ls default))"

# %p
mkdir pid
(cd pid && profile 'p-%p.bin' sh -c 'echo $$ >pid.txt; exec "$0"' "$BIN/target" >/dev/null 2>err.txt)
pid=$(cat pid/pid.txt)
[ -s "pid/p-$pid.bin" ] || fail "SPROF_OUTPUT=p-%p.bin did not write p-$pid.bin (files: $(ls pid))"

# .old
mkdir old
(cd old && profile p.bin "$BIN/target" first >/dev/null 2>&1)
cp old/p.bin first.bin
(cd old && profile p.bin "$BIN/target" second >/dev/null 2>&1)
[ -s old/p.bin.old ] || fail "the earlier p.bin was not kept as p.bin.old (files: $(ls old))"
cmp -s first.bin old/p.bin.old || fail "p.bin.old is not the earlier profile"
report info old/p.bin >info2.txt
grep -q second info2.txt || fail "p.bin is not the new profile (info does not show the argument 'second')"

# a symlink at the output path: its target is left alone
mkdir link
echo precious >link/target.txt
ln -s target.txt link/p.bin
(cd link && profile p.bin "$BIN/target" >/dev/null 2>err.txt)
[ "$(cat link/target.txt)" = precious ] || fail "the file behind a symlink at the output path was overwritten"
[ -f link/p.bin ] && [ ! -L link/p.bin ] || fail "p.bin is not a regular file of its own"

# umask
mkdir mask
(cd mask && umask 077 && profile p.bin "$BIN/target" >/dev/null 2>&1)
mode=$(stat -c %a mask/p.bin)
[ "$mode" = 600 ] || fail "with umask 077 the profile has mode $mode, want 600"

# a relative output path and a child that changes directory first
mkdir -p cd/sub
(cd cd && profile p.bin sh -c 'cd sub && exec "$0" moved' "$BIN/target" >/dev/null 2>err.txt)
ls -R cd
[ -n "$(files_of 'cd/p.bin.*')" ] || fail "the exec'd program did not write p.bin.PID beside p.bin after cd (files: $(ls cd cd/sub))"
[ -z "$(files_of 'cd/sub/p.bin*')" ] || fail "a descendant wrote its profile into the directory it moved to"
