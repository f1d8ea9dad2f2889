/* The TCP MD5 signature option (RFC 2385): computing and placing the
 * digest. Which segments must carry one is the connection's business. */
#include <string.h>

#include "base/md5.h"
#include "wire/cursor.h"
#include "wire/wire.h"

void tcp_md5_digest(const uint8_t *seg, size_t len, uint32_t src, uint32_t dst,
                    const uint8_t *key, size_t key_len, uint8_t out[TCP_MD5_DIGEST_LEN])
{
    uint8_t pseudo[12], hdr[TCP_HDR_LEN];
    size_t hdr_bytes = (size_t)(seg[12] >> 4) * 4;
    struct md5_ctx c;

    store_u16(pseudo, (uint16_t)(src >> 16));
    store_u16(pseudo + 2, (uint16_t)src);
    store_u16(pseudo + 4, (uint16_t)(dst >> 16));
    store_u16(pseudo + 6, (uint16_t)dst);
    pseudo[8] = 0;
    pseudo[9] = IPV4_PROTO_TCP;
    store_u16(pseudo + 10, (uint16_t)len);
    memcpy(hdr, seg, TCP_HDR_LEN);
    store_u16(hdr + 16, 0);
    md5_init(&c);
    md5_update(&c, pseudo, sizeof pseudo);
    md5_update(&c, hdr, sizeof hdr);
    md5_update(&c, seg + hdr_bytes, len - hdr_bytes);
    md5_update(&c, key, key_len);
    md5_final(&c, out);
}

/* Where the digest of the MD5 option lies in seg's options (0: none). */
static size_t md5_digest_offset(const uint8_t *seg, size_t hdr_bytes)
{
    size_t i = TCP_HDR_LEN;
    while (i + 1 < hdr_bytes && seg[i] != TCPOPT_EOL) {
        if (seg[i] == TCPOPT_NOP) {
            i++;
            continue;
        }
        if (seg[i] == TCPOPT_MD5SIG)
            return i + 2 + TCP_MD5_DIGEST_LEN <= hdr_bytes ? i + 2 : 0;
        if (seg[i + 1] < 2)
            return 0;
        i += seg[i + 1];
    }
    return 0;
}

void tcp_md5_sign(uint8_t *seg, size_t len, uint32_t src, uint32_t dst, const uint8_t *key,
                  size_t key_len)
{
    size_t at = md5_digest_offset(seg, (size_t)(seg[12] >> 4) * 4);
    if (!at)
        return;
    tcp_md5_digest(seg, len, src, dst, key, key_len, seg + at);
    store_u16(seg + 16, 0);
    uint32_t sum = wire_pseudo_sum(src, dst, IPV4_PROTO_TCP, (uint16_t)len);
    store_u16(seg + 16, wire_csum_fold(wire_csum_add(sum, seg, len)));
}
