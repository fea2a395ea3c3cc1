#define _GNU_SOURCE
#include <sched.h>
#include "CProbeShims.h"

int smoketrace_enter_netns(int fd) {
    return setns(fd, CLONE_NEWNET);
}
