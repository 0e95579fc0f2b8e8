/* SPDX-License-Identifier: MIT */
/*
 * demo: the example `make demo` profiles. A tiny bytecode interpreter runs
 * a program of four kinds of instruction, each implemented by a function of
 * its own:
 *
 *   op_hash    hashes a string (FNV-1a), 4 of every 10 instructions
 *   op_matmul  multiplies two small matrices, 3 of every 10
 *   op_sort    insertion-sorts a small array, 2 of every 10
 *   op_fib     computes a Fibonacci number recursively, 1 of every 10
 *
 * Each instruction costs about the same CPU time, so the flat profile shows
 * roughly 40% op_hash, 30% op_matmul, 20% op_sort and 10% fib (the
 * recursion op_fib calls), under vm_run and main. The exact shares depend
 * on the machine and compiler (op_matmul can overtake op_hash).
 *
 * Usage: demo [SECONDS]   (about 1.5 s of CPU by default)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum op { OP_HASH, OP_MATMUL, OP_SORT, OP_FIB, OP_END };

struct vm {
    uint64_t acc;
    char text[4096];
    double a[16][16], b[16][16], c[16][16];
    int array[256];
    uint32_t seed;
};

#define NOINLINE __attribute__((noinline))

NOINLINE static void op_hash(struct vm *vm)
{
    uint64_t h = 1469598103934665603ull;
    for (int round = 0; round < 6; round++)
        for (size_t i = 0; i < sizeof(vm->text); i++) {
            h ^= (unsigned char)vm->text[i];
            h *= 1099511628211ull;
        }
    vm->acc += h;
}

NOINLINE static void op_matmul(struct vm *vm)
{
    for (int rep = 0; rep < 36; rep++) {
        for (int i = 0; i < 16; i++)
            for (int j = 0; j < 16; j++) {
                double s = 0;
                for (int k = 0; k < 16; k++)
                    s += vm->a[i][k] * vm->b[k][j];
                vm->c[i][j] = s;
            }
        vm->a[rep % 16][rep % 16] += vm->c[0][0] * 1e-9;
    }
    vm->acc += (uint64_t)vm->c[3][5];
}

NOINLINE static void op_sort(struct vm *vm)
{
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < 256; i++) {
            vm->seed = vm->seed * 1103515245u + 12345u;
            vm->array[i] = (int)(vm->seed >> 8);
        }
        for (int i = 1; i < 256; i++) {
            int v = vm->array[i], j = i - 1;
            while (j >= 0 && vm->array[j] > v) {
                vm->array[j + 1] = vm->array[j];
                j--;
            }
            vm->array[j + 1] = v;
        }
        vm->acc += (uint64_t)vm->array[128];
    }
}

NOINLINE static uint64_t fib(unsigned n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

NOINLINE static void op_fib(struct vm *vm)
{
    vm->acc += fib(21);
}

/* The interpreter loop: fetch, dispatch, repeat. */
NOINLINE static void vm_run(struct vm *vm, const unsigned char *code, long repeat)
{
    for (long r = 0; r < repeat; r++) {
        for (const unsigned char *pc = code; *pc != OP_END; pc++) {
            switch (*pc) {
            case OP_HASH:
                op_hash(vm);
                break;
            case OP_MATMUL:
                op_matmul(vm);
                break;
            case OP_SORT:
                op_sort(vm);
                break;
            case OP_FIB:
                op_fib(vm);
                break;
            }
        }
    }
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 1.5;
    static const unsigned char program[] = {OP_HASH,   OP_MATMUL, OP_SORT, OP_HASH,
                                            OP_MATMUL, OP_FIB,    OP_HASH, OP_SORT,
                                            OP_MATMUL, OP_HASH,   OP_END};
    static struct vm vm;
    vm.seed = 42;
    for (size_t i = 0; i < sizeof(vm.text); i++)
        vm.text[i] = (char)('a' + i % 26);
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 16; j++) {
            vm.a[i][j] = (i + 1) * 0.5 + j;
            vm.b[i][j] = (j + 1) * 0.25 - i;
        }
    /* Run the program in rounds until the CPU time is used up. */
    double start = cpu_seconds();
    long rounds = 0;
    while (cpu_seconds() - start < seconds) {
        vm_run(&vm, program, 50);
        rounds += 50;
    }
    printf("demo: %ld rounds of %zu instructions, result %016llx\n", rounds, sizeof(program) - 1,
           (unsigned long long)vm.acc);
    return 0;
}
