// Small machine helpers the Swift standard library does not expose: a cache prefetch hint, a
// hardware CRC-32C and sending many datagrams in one call. Everything here is portable C with a
// plain fallback.
#ifndef CHANNELGUARD_SUPPORT_H
#define CHANNELGUARD_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/// Asks the CPU to start loading the cache line holding `address`; a hint only.
static inline void cg_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// Returns free heap memory to the system (glibc `malloc_trim`); a no-op elsewhere.
void cg_release_free_memory(void);

/// CRC-32C (Castagnoli) of `count` bytes, continuing from `crc` (start with 0).
/// Uses the SSE 4.2 instruction when the CPU has it, else a table.
uint32_t cg_crc32c(uint32_t crc, const void *bytes, size_t count);

/// Sends `count` datagrams on a connected socket, as many as it can in one system call (Linux
/// `sendmmsg`; one `send` each elsewhere). With `segments` above 1 (Linux, at most 64), a run of
/// up to `segments` consecutive datagrams of one length (the last of a run may be shorter) goes
/// down as one message that the kernel cuts into those datagrams (`UDP_SEGMENT`, generic
/// segmentation offload): the receiver still gets each datagram on its own. Returns how many
/// datagrams were sent, or -1 with `errno` set when not even the first was (EINVAL or EIO when the
/// kernel or the route cannot segment: send again with `segments` 1).
int cg_send_datagrams(
    int descriptor, const void *const *buffers, const size_t *lengths, unsigned int count, unsigned int segments
);

#if defined(__linux__)
#include <linux/filter.h>

/// The number of instructions in a ``cg_reuseport_program``.
#define CG_REUSEPORT_PROGRAM_LENGTH 3

/// Fills `code` (CG_REUSEPORT_PROGRAM_LENGTH instructions) and `program` with a classic BPF program
/// for `SO_ATTACH_REUSEPORT_CBPF`: it gives each datagram to socket number (the big-endian 32-bit
/// word at `offset` of the UDP payload) % `sockets` of the port's reuse group. A datagram too
/// short to hold the word goes to socket 0. `program` points at `code`, which must outlive the
/// `setsockopt` call (the kernel copies it).
void cg_reuseport_program(uint32_t offset, uint32_t sockets, struct sock_filter *code, struct sock_fprog *program);
#endif

#endif
