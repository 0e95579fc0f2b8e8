/* SPDX-License-Identifier: MIT */
/* earlymain: linked with libearly.so, whose thread exists before sprof's
 * constructor; main burns in work_main_early meanwhile. */
#include <stdio.h>

#include "burn.h"

void early_join(void);

__attribute__((noinline)) void work_main_early(void)
{
    long n = burn_iters(300);
    BURN(n, 0x14057b7ef767814full);
}

int main(void)
{
    work_main_early();
    early_join();
    printf("earlymain: done\n");
    return 0;
}
