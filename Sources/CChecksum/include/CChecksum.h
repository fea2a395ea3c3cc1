#ifndef CCHECKSUM_H
#define CCHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/// Whether this CPU has the CRC-32C instruction (SSE 4.2 on x86-64); 0 elsewhere.
int pathtsdb_crc32c_hardware(void);

/// Folds `count` bytes into a raw CRC-32C register `state` with the CPU's instruction (no
/// pre- or post-inversion: the caller does those). Only call when the hardware has it.
uint32_t pathtsdb_crc32c_update(uint32_t state, const void *bytes, size_t count);

#endif
