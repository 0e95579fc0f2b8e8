# SPDX-License-Identifier: MIT
# Mappings in children of fork (tests/progs/forkmaps.c). A child's file
# starts with its parent's mappings as the parent had them on record
# (writer.c, forget_parent; maps.c, sprof_maps_restate), with the load bias
# and build-id found for them then, and the child compares the maps again
# before it writes, which adds what the parent had not seen yet. The parent
# dlopens libchurn-a.so, works in it, then libchurn-b.so and works in it
# (its writer compares the maps after each: the second time libchurn-a.so's
# entry is carried over, not looked up). The first child works in both and
# exits: its functions resolve in their own libraries, whose build-ids are
# the parent's. The parent then dlopens libhot.so and forks at once, before
# its writer can compare the maps: the second child's samples in libhot.so
# still resolve there, and its file ends with its exec.

profile p.bin "$BIN/forkmaps" "$BIN/libchurn-a.so" "$BIN/libchurn-b.so" "$BIN/libhot.so" 300 \
    >out.txt 2>err.txt || fail "forkmaps exited with status $?: $(head -c 300 err.txt)"
cat out.txt
expect_stderr_clean err.txt
c1=$(sed -n 's/^child1 \([0-9]*\)$/\1/p' out.txt)
c2=$(sed -n 's/^child2 \([0-9]*\)$/\1/p' out.txt)
if [ -z "$c1" ] || [ -z "$c2" ]; then
    fail "forkmaps printed no child pids: $(cat out.txt)"
fi
[ -s "p.bin.$c1" ] || fail "no file for the first child (files: $(echo p.bin*))"
[ -s "p.bin.$c2" ] || fail "no file for the second child (files: $(echo p.bin*))"

flat_rows parent p.bin
expect_in_flat parent a_work 100
expect_in_flat parent b_work 100

# build_id INFO MODULE: the build-id `sprof-report info` lists for MODULE
build_id() {
    awk -v m="$2" '$2 ~ ("/" m "$") { print $3; exit }' "$1"
}
report info p.bin >parent-info.txt
for lib in libchurn-a.so libchurn-b.so; do
    [ -n "$(build_id parent-info.txt $lib)" ] || fail "the parent's info lists no $lib: $(cat parent-info.txt)"
done

flat_rows child1 "p.bin.$c1"
expect_in_flat child1 a_work 50
expect_in_flat child1 b_work 50
[ "$(module_of child1 a_work)" = libchurn-a.so ] || fail "child1: a_work in $(module_of child1 a_work)"
[ "$(module_of child1 b_work)" = libchurn-b.so ] || fail "child1: b_work in $(module_of child1 b_work)"
expect_not_in_flat child1 forkmaps_parent_work
report info "p.bin.$c1" >child1-info.txt
cat child1-info.txt
for lib in libchurn-a.so libchurn-b.so; do
    [ "$(build_id child1-info.txt $lib)" = "$(build_id parent-info.txt $lib)" ] ||
        fail "child1: $lib has build-id '$(build_id child1-info.txt $lib)', the parent's '$(build_id parent-info.txt $lib)'"
done

flat_rows child2 "p.bin.$c2"
expect_in_flat child2 hot_in_library 50
expect_in_flat child2 a_work 50
[ "$(module_of child2 hot_in_library)" = libhot.so ] ||
    fail "child2: hot_in_library in $(module_of child2 hot_in_library)"
[ "$(module_of child2 a_work)" = libchurn-a.so ] || fail "child2: a_work in $(module_of child2 a_work)"
report info "p.bin.$c2" >child2-info.txt
grep -q '^ended *exec' child2-info.txt || fail "child2's file does not end with its exec: $(grep '^ended' child2-info.txt)"
