/* SPDX-License-Identifier: MIT */
/*
 * Symbol demangling: C++ (Itanium ABI, through the C++ runtime's
 * __cxa_demangle), legacy Rust (C++-style with a trailing hash, which is
 * dropped, and Rust's $-escapes) and Rust v0 ("_R..." symbols, the subset
 * that names functions: paths, impls, generic arguments, basic and compound
 * types; anything else is left mangled).
 */
#ifndef SPROF_DEMANGLE_H
#define SPROF_DEMANGLE_H

/* The demangled form of name in a new allocation the caller owns, or NULL
 * when name is not mangled or cannot be demangled. */
char *sp_demangle(const char *name);

#endif
