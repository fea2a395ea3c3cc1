#ifndef C_PROBE_SHIMS_H
#define C_PROBE_SHIMS_H

/// Enters the network namespace open at `fd` (setns(2) with CLONE_NEWNET), for the calling
/// thread only. Glibc declares setns only under _GNU_SOURCE, which Swift's import does not set.
int smoketrace_enter_netns(int fd);

#endif
