/* SPDX-License-Identifier: MIT */
/*
 * The preload's large zero-filled arrays, in one variable in a file of its
 * own that the Makefile links last. The .bss keeps its input files' order,
 * so the small variables of every other file come first and share a page,
 * and of these arrays only the pages in use are ever faulted in. Spread
 * among the small ones, each array pushed those after it onto pages of
 * their own: every page a process writes is a page fault (about 2 us on a
 * VM) at its start and more work at its end: a /bin/true under a profiled
 * shell script wrote 11 pages of the .data, the .bss and its own mappings
 * where it now writes 8 (BENCHMARKS.md, session 14).
 */
#include "sprof.h"

struct sprof_space sprof_space;
