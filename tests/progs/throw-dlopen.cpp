// SPDX-License-Identifier: MIT
// throw-dlopen: threads that loop on C++ throw/catch and threads that loop
// on dlopen/dlclose, for MS milliseconds, the classic way for a profiler to
// hang (the unwinder needs a lock that the interrupted thread holds).
// Usage: throw-dlopen LIB.so [MS]. Prints "throw-dlopen: done" at the end.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <stdexcept>
#include <thread>
#include <vector>

static std::atomic<bool> stop{false};
static std::atomic<long> throws{0}, loads{0};

__attribute__((noinline)) static void thrower(int depth)
{
    if (depth == 0) throw std::runtime_error("sprof test");
    thrower(depth - 1);
    asm volatile("" ::: "memory"); // not a tail call
}

static void throw_loop()
{
    while (!stop.load(std::memory_order_relaxed)) {
        try {
            thrower(8);
        } catch (const std::exception &) {
            throws.fetch_add(1, std::memory_order_relaxed);
        }
    }
}

static void dlopen_loop(const char *lib)
{
    while (!stop.load(std::memory_order_relaxed)) {
        void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            std::fprintf(stderr, "throw-dlopen: %s\n", dlerror());
            std::exit(1);
        }
        dlclose(h);
        loads.fetch_add(1, std::memory_order_relaxed);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: throw-dlopen LIB.so [MS]\n");
        return 2;
    }
    int ms = argc > 2 ? std::atoi(argv[2]) : 2000;
    std::vector<std::thread> ts;
    for (int i = 0; i < 2; i++) ts.emplace_back(throw_loop);
    for (int i = 0; i < 2; i++) ts.emplace_back(dlopen_loop, argv[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    stop = true;
    for (auto &t : ts) t.join();
    std::printf("throw-dlopen: done (%s)\n", throws > 0 && loads > 0 ? "both ran" : "idle");
    return 0;
}
