/* Pure parse and emit of IPv4, ICMP and TCP headers and TCP options.
 * No state, no allocation, no clock. Parsers read through a bounds-checked
 * cursor and fill plain structs; protocol code never touches raw header bytes.
 * All multi-byte fields in the structs are in host byte order. */
#ifndef KEEL_WIRE_WIRE_H
#define KEEL_WIRE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum wire_result {
    WIRE_OK = 0,
    WIRE_TRUNCATED,       /* fewer bytes than a fixed header needs */
    WIRE_BAD_VERSION,     /* IPv4 version field is not 4 */
    WIRE_BAD_IHL,         /* IHL < 5, or header beyond the bytes present */
    WIRE_BAD_TOTAL_LEN,   /* total length < header, or > bytes present */
    WIRE_BAD_CHECKSUM,
    WIRE_FRAGMENT,        /* MF set or fragment offset non-zero */
    WIRE_BAD_DATA_OFFSET, /* TCP data offset < 5, or beyond the segment */
    WIRE_BAD_OPTIONS,     /* option length 0 or 1, or running past the header */
    WIRE_BAD_ICMP,        /* ICMP body too short for its type */
};
const char *wire_result_name(enum wire_result r);

/* Internet checksum (RFC 1071). Sums are 32-bit accumulators, folded at the end.
 * wire_csum_add adds data as big-endian 16-bit words; an odd final byte is
 * padded with zero, so a region may be summed in pieces but only the LAST
 * piece may have odd length. wire_csum_fold folds to 16 bits and returns the
 * one's complement: the value to store in a checksum field, and 0 when the
 * summed data already includes a correct checksum. */
uint32_t wire_csum_add(uint32_t sum, const void *data, size_t len);
uint16_t wire_csum_fold(uint32_t sum);
/* Pseudo-header sum for TCP over IPv4 (RFC 9293 §3.1). */
uint32_t wire_pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);

/* ---- IPv4 (RFC 791) ---- */
#define IPV4_PROTO_ICMP 1
#define IPV4_PROTO_TCP 6
#define IPV4_FLAG_DF 0x4000
#define IPV4_FLAG_MF 0x2000
#define IPV4_FRAG_OFFSET_MASK 0x1fff
#define IPV4_HDR_LEN 20

/* The ECN field: the low two bits of the TOS octet (RFC 3168 §5). */
#define IP_ECN_MASK 0x03u
#define IP_ECN_NOT_ECT 0x00u
#define IP_ECN_ECT1 0x01u
#define IP_ECN_ECT0 0x02u
#define IP_ECN_CE 0x03u

struct ipv4_hdr {
    uint8_t ihl; /* in 32-bit words */
    uint8_t tos;
    uint16_t total_len;
    uint16_t id;
    uint16_t frag; /* flags and fragment offset, as on the wire */
    uint8_t ttl;
    uint8_t proto;
    uint32_t src, dst;
};

/* Parses the IPv4 header of pkt[0..len). Bytes beyond total_len (link padding)
 * are trimmed: *payload_len counts only the datagram's payload. Verifies the
 * header checksum. Returns WIRE_OK or the reason the packet is rejected;
 * WIRE_FRAGMENT is returned for a well-formed fragment (the header and the
 * payload pointers are filled). Options (IHL > 5) are skipped. payload and
 * payload_len may be NULL. */
enum wire_result ipv4_parse(const uint8_t *pkt, size_t len, struct ipv4_hdr *h,
                            const uint8_t **payload, size_t *payload_len);
/* Writes a 20-byte header (no options) for a datagram of payload_len bytes
 * into buf, with total_len and checksum computed. Returns IPV4_HDR_LEN. */
size_t ipv4_emit(uint8_t *buf, const struct ipv4_hdr *h, size_t payload_len);

/* ---- ICMP (RFC 792, RFC 1191) ---- */
#define ICMP_ECHO_REPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_ECHO_REQUEST 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_CODE_NET_UNREACH 0
#define ICMP_CODE_HOST_UNREACH 1
#define ICMP_CODE_PROTO_UNREACH 2
#define ICMP_CODE_PORT_UNREACH 3
#define ICMP_CODE_FRAG_NEEDED 4

struct icmp_msg {
    uint8_t type, code;
    uint16_t id, seq;       /* echo request/reply */
    uint16_t next_hop_mtu;  /* dest unreach, fragmentation needed (RFC 1191) */
    const uint8_t *body;    /* echo: data; errors: the quoted datagram */
    size_t body_len;
};
/* Parses an ICMP message and verifies its checksum. An error message (type 3,
 * 11) must quote at least an IPv4 header and 8 bytes, else WIRE_BAD_ICMP. */
enum wire_result icmp_parse(const uint8_t *msg, size_t len, struct icmp_msg *m);
/* Writes an ICMP message: 8-byte header then m->body, checksum computed.
 * Returns the bytes written, or 0 if cap is too small. */
size_t icmp_emit(uint8_t *buf, size_t cap, const struct icmp_msg *m);

/* ---- TCP (RFC 9293 §3.1) and its options ---- */
#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_PSH 0x08
#define TCP_FLAG_ACK 0x10
#define TCP_FLAG_URG 0x20
#define TCP_FLAG_ECE 0x40
#define TCP_FLAG_CWR 0x80
#define TCP_HDR_LEN 20
#define TCP_MAX_HDR_LEN 60
#define TCP_MAX_SACK_BLOCKS 4

#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOPT_WSCALE 3
#define TCPOPT_SACK_PERM 4
#define TCPOPT_SACK 5
#define TCPOPT_TIMESTAMP 8
#define TCPOPT_MD5SIG 19
#define TCPOPT_FASTOPEN 34 /* RFC 7413 §4.1.1 */
#define TCP_FASTOPEN_COOKIE_MIN 4 /* RFC 7413 §4.1.1 */
#define TCP_FASTOPEN_COOKIE_MAX 16
#define TCP_MD5_DIGEST_LEN 16

/* Which options a parsed header carried (or an emitted header will carry). */
#define TCP_OPT_MSS 0x01
#define TCP_OPT_WSCALE 0x02
#define TCP_OPT_SACK_PERM 0x04
#define TCP_OPT_SACK 0x08
#define TCP_OPT_TS 0x10
#define TCP_OPT_MD5 0x20
#define TCP_OPT_FASTOPEN 0x40

struct tcp_sack_block {
    uint32_t left, right; /* [left, right) */
};

struct tcp_opts {
    uint8_t present; /* TCP_OPT_* */
    uint8_t wscale;
    uint16_t mss;
    uint32_t tsval, tsecr;
    uint8_t sack_count;
    struct tcp_sack_block sack[TCP_MAX_SACK_BLOCKS];
    uint8_t md5[TCP_MD5_DIGEST_LEN]; /* RFC 2385 digest (emitted as zeros: tcp_md5_sign) */
    /* RFC 7413 §4.1.1 Fast Open: fo_len 0 is a cookie request, else an even
     * length of 4 to 16 bytes (other lengths count as bad_len_count). */
    uint8_t fo_len;
    uint8_t fo_cookie[TCP_FASTOPEN_COOKIE_MAX];
    /* Options with a known kind but a wrong length are ignored (never the
     * segment); unknown kinds are skipped by their length. Both are counted. */
    uint8_t bad_len_count;
    uint8_t unknown_count;
};

struct tcp_hdr {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t doff; /* in 32-bit words */
    uint8_t flags;
    uint16_t wnd;
    uint16_t csum;
    uint16_t urp;
    struct tcp_opts opts;
};

/* Parses the TCP segment seg[0..len) carried between src and dst (for the
 * checksum, verified when verify_csum). On WIRE_OK *payload and *payload_len
 * give the data (payload and payload_len may be NULL). WIRE_BAD_OPTIONS rejects
 * the segment (malformed option list); a known option with a wrong length is
 * only ignored. A window scale above 14 is stored as 14 (RFC 7323 §2.3). */
enum wire_result tcp_parse(const uint8_t *seg, size_t len, uint32_t src,
                           uint32_t dst, bool verify_csum, struct tcp_hdr *h,
                           const uint8_t **payload, size_t *payload_len);

/* Header length (20 + options, padded to 4) that tcp_emit will write for h,
 * using h->opts.present and h->opts.sack_count. SACK blocks are limited to
 * what fits in the 40 bytes of option space (3 alongside timestamps), as
 * Linux does. */
size_t tcp_hdr_len(const struct tcp_hdr *h);

/* Writes h's header and options at seg[0..tcp_hdr_len(h)), where seg[0..seg_len)
 * already holds the payload after the header, and computes the checksum over
 * the whole segment. h->doff and h->csum are ignored and computed.
 * seg_len must be at least tcp_hdr_len(h).
 * Options are laid out as Linux does, so packetdrill scripts match:
 *   NOP, NOP, MD5; MSS; then if TS: (SACK_PERM, TS) or (NOP, NOP, TS);
 *   else if SACK_PERM: NOP, NOP, SACK_PERM; then NOP, WSCALE;
 *   then NOP, NOP, SACK blocks; then Fast Open, followed by NOP, NOP when
 *   its length leaves the header 2 bytes short of a word, and left off when
 *   it does not fit in the 40 bytes (as Linux tcp_syn_options). */
void tcp_emit(uint8_t *seg, size_t seg_len, const struct tcp_hdr *h, uint32_t src,
              uint32_t dst);

/* RFC 2385 §2.0: the MD5 digest of the pseudo-header (source, destination,
 * zero-padded protocol, segment length), the TCP header without options
 * and with a zero checksum, the data, then the key, for the segment
 * seg[0..len) (its header must be well formed: parsed or emitted). */
void tcp_md5_digest(const uint8_t *seg, size_t len, uint32_t src, uint32_t dst,
                    const uint8_t *key, size_t key_len, uint8_t out[TCP_MD5_DIGEST_LEN]);
/* Fills the MD5 option of a segment tcp_emit wrote (TCP_OPT_MD5 present)
 * with its digest, then its checksum again. */
void tcp_md5_sign(uint8_t *seg, size_t len, uint32_t src, uint32_t dst, const uint8_t *key,
                  size_t key_len);

/* One-line tcpdump-like rendering of a TCP segment, e.g.
 * "10.0.0.1:80 > 10.0.0.2:4000 S. 100:100(0) ack 1 win 65535 <mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7>"
 * Sequence numbers are printed absolute. Flags use packetdrill's letters in
 * tcpdump's order (F S R P . U E W; "none" for no flags); "ack N" only with
 * ACK; options from h->opts in tcp_emit's order. Returns snprintf's result. */
int tcp_format(char *buf, size_t cap, uint32_t src, uint32_t dst,
               const struct tcp_hdr *h, size_t payload_len);

#endif
