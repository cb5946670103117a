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

int cg_send_datagrams(int descriptor, const void *const *buffers, const size_t *lengths, unsigned int count) {
#if defined(__linux__)
    enum { batch = 64 };
    struct mmsghdr messages[batch];
    struct iovec vectors[batch];
    unsigned int sent = 0;
    while (sent < count) {
        unsigned int n = count - sent < batch ? count - sent : batch;
        for (unsigned int i = 0; i < n; i++) {
            vectors[i].iov_base = (void *)buffers[sent + i];
            vectors[i].iov_len = lengths[sent + i];
            memset(&messages[i].msg_hdr, 0, sizeof(messages[i].msg_hdr));
            messages[i].msg_hdr.msg_iov = &vectors[i];
            messages[i].msg_hdr.msg_iovlen = 1;
        }
        int result = sendmmsg(descriptor, messages, n, MSG_NOSIGNAL);
        if (result < 0) return sent > 0 ? (int)sent : -1;
        sent += (unsigned int)result;
        if ((unsigned int)result < n) break;
    }
    return (int)sent;
#else
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
