/* SPDX-License-Identifier: MIT */
/*
 * libhot.so: a library that test programs dlopen at run time. All the CPU
 * of hot_in_library is spent in the library itself.
 */
#include "burn.h"

__attribute__((noinline, visibility("default"))) void hot_in_library(long n)
{
    BURN(n, 0x6a09e667f3bcc909ull);
}
