#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE  // sendmmsg
#endif
#include "channelguard_support.h"

#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

void cg_release_free_memory(void) {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

static uint32_t table[256];

__attribute__((constructor)) static void build_table(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        table[i] = c;
    }
}

static uint32_t crc32c_table(uint32_t crc, const unsigned char *p, size_t n) {
    while (n--) crc = table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static uint32_t crc32c_sse42(uint32_t crc, const unsigned char *p, size_t n) {
    uint64_t c = crc;
    while (n >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        c = __builtin_ia32_crc32di(c, word);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--) c32 = __builtin_ia32_crc32qi(c32, *p++);
    return c32;
}
#endif

uint32_t cg_crc32c(uint32_t crc, const void *bytes, size_t count) {
    const unsigned char *p = (const unsigned char *)bytes;
    crc = ~crc;
#if defined(__x86_64__)
    if (__builtin_cpu_supports("sse4.2")) return ~crc32c_sse42(crc, p, count);
#endif
    return ~crc32c_table(crc, p, count);
}

#if defined(__linux__)
#include <netinet/in.h>
#include <netinet/udp.h>
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#endif

int cg_send_datagrams(
    int descriptor, const void *const *buffers, const size_t *lengths, unsigned int count, unsigned int segments
) {
#if defined(__linux__)
    // Per system call: up to 64 messages and 1,024 datagrams. With segmentation a message is a run
    // of datagrams of one length (the last may be shorter) that the kernel cuts apart (UDP GSO).
    enum { most_messages = 64, most_datagrams = 1024, most_payload = 65507 };
    struct mmsghdr messages[most_messages];
    struct iovec vectors[most_datagrams];
    unsigned int runs[most_messages];
    union {
        char bytes[CMSG_SPACE(sizeof(uint16_t))];
        struct cmsghdr align;
    } controls[most_messages];
    if (segments < 1) segments = 1;
    if (segments > 64) segments = 64;
    unsigned int sent = 0;
    while (sent < count) {
        unsigned int n = 0, used = 0, next = sent;
        while (next < count && n < most_messages && used < most_datagrams) {
            size_t size = lengths[next];
            unsigned int run = 1;
            // An empty datagram is neither a segment size nor a segment: it goes alone.
            while (size > 0 && run < segments && next + run < count && used + run < most_datagrams
                   && lengths[next + run] > 0 && lengths[next + run] <= size && (run + 1) * size <= most_payload) {
                int shorter = lengths[next + run] < size;
                run += 1;
                if (shorter) break;  // only the last segment may be shorter
            }
            struct msghdr *header = &messages[n].msg_hdr;
            memset(header, 0, sizeof(*header));
            for (unsigned int k = 0; k < run; k++) {
                vectors[used + k].iov_base = (void *)buffers[next + k];
                vectors[used + k].iov_len = lengths[next + k];
            }
            header->msg_iov = &vectors[used];
            header->msg_iovlen = run;
            if (run > 1) {
                memset(controls[n].bytes, 0, sizeof(controls[n].bytes));
                header->msg_control = controls[n].bytes;
                header->msg_controllen = sizeof(controls[n].bytes);
                struct cmsghdr *control = CMSG_FIRSTHDR(header);
                control->cmsg_level = SOL_UDP;
                control->cmsg_type = UDP_SEGMENT;
                control->cmsg_len = CMSG_LEN(sizeof(uint16_t));
                uint16_t segment = (uint16_t)size;
                memcpy(CMSG_DATA(control), &segment, sizeof(segment));
            }
            runs[n] = run;
            used += run;
            next += run;
            n += 1;
        }
        int result = sendmmsg(descriptor, messages, n, MSG_NOSIGNAL);
        if (result < 0) return sent > 0 ? (int)sent : -1;
        for (int i = 0; i < result; i++) sent += runs[i];
        if ((unsigned int)result < n) break;
    }
    return (int)sent;
#else
    (void)segments;
    unsigned int sent = 0;
    for (; sent < count; sent++) {
        if (send(descriptor, buffers[sent], lengths[sent], 0) < 0) return sent > 0 ? (int)sent : -1;
    }
    return (int)sent;
#endif
}

#if defined(__linux__)
void cg_reuseport_program(uint32_t offset, uint32_t sockets, struct sock_filter *code, struct sock_fprog *program) {
    code[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offset);  // A = word at offset
    code[1] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, sockets > 0 ? sockets : 1);  // A %= sockets
    code[2] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_A, 0);  // socket A
    program->len = CG_REUSEPORT_PROGRAM_LENGTH;
    program->filter = code;
}
#endif
