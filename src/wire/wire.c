/* Result names and the Internet checksum (RFC 1071). */
#include "wire/wire.h"

const char *wire_result_name(enum wire_result r)
{
    switch (r) {
    case WIRE_OK: return "ok";
    case WIRE_TRUNCATED: return "truncated";
    case WIRE_BAD_VERSION: return "bad IP version";
    case WIRE_BAD_IHL: return "bad IP header length";
    case WIRE_BAD_TOTAL_LEN: return "bad IP total length";
    case WIRE_BAD_CHECKSUM: return "bad checksum";
    case WIRE_FRAGMENT: return "IP fragment";
    case WIRE_BAD_DATA_OFFSET: return "bad TCP data offset";
    case WIRE_BAD_OPTIONS: return "bad TCP options";
    case WIRE_BAD_ICMP: return "bad ICMP message";
    }
    return "unknown wire result";
}

/* Folds a wide one's-complement accumulator to 32 bits. Because 2^32 and
 * 2^16 are both 1 modulo 0xffff, end-around carries keep the sum's value
 * (RFC 1071 §2(B), "deferred carries"). */
static uint32_t fold_to_32(uint64_t acc)
{
    while (acc >> 32)
        acc = (acc & 0xffffffffu) + (acc >> 32);
    return (uint32_t)acc;
}

/* RFC 1071 §4.1: sum of 16-bit big-endian words; an odd final byte is padded
 * with a zero low byte. So only the LAST piece of a checksummed region may
 * have odd length: an odd piece followed by more data would misalign the
 * words of the data that follows. */
uint32_t wire_csum_add(uint32_t sum, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t acc = sum;
    size_t i = 0;

    for (; i + 1 < len; i += 2)
        acc += (uint32_t)p[i] << 8 | p[i + 1];
    if (i < len)
        acc += (uint32_t)p[i] << 8;
    return fold_to_32(acc);
}

/* Folds to 16 bits and returns the one's complement: the value to store in a
 * checksum field. Over data that includes a correct checksum it yields 0. */
uint16_t wire_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)~sum;
}

/* RFC 9293 §3.1: the TCP pseudo header is source address, destination
 * address, a zero byte, the protocol and the TCP length. */
uint32_t wire_pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
    uint64_t acc = 0;

    acc += src >> 16;
    acc += src & 0xffffu;
    acc += dst >> 16;
    acc += dst & 0xffffu;
    acc += proto;
    acc += len;
    return fold_to_32(acc);
}
