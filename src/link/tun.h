/* A Linux TUN device as a keel device, and the loop that runs a stack on it.
 *
 * The device is opened IFF_TUN | IFF_NO_PI | IFF_VNET_HDR (linux/if_tun.h):
 * every packet read or written is an IPv4 packet preceded by a struct
 * virtio_net_hdr (virtio spec 1.2 §5.1.6, "Device Operation"), which is how
 * keel hands the kernel one large TCP packet to cut into segments
 * (transmit_tso: flags NEEDS_CSUM, gso_type TCPV4, gso_size = MSS).
 *
 * Receive offload (tun_options.rx_offload, TUNSETOFFLOAD TUN_F_CSUM |
 * TUN_F_TSO4) lets the kernel hand keel large GSO packets whose TCP checksum
 * is left for the device to complete (NEEDS_CSUM). tun_device completes it
 * (csum_start / csum_offset) and passes the large packet to keel as one
 * segment, which keel accepts up to an IPv4 packet of 65535 bytes. It is on
 * by default: it saves the kernel a checksum and keel a read per segment
 * (see bench/results/tun_vs_veth.md for what it buys). */
#ifndef KEEL_LINK_TUN_H
#define KEEL_LINK_TUN_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keel/keel.h"

#define TUN_VNET_HDR_LEN 10 /* sizeof(struct virtio_net_hdr) */

struct tun_options {
    const char *name;  /* interface name; NULL or "": the kernel picks tun%d */
    uint32_t mtu;      /* keel's MTU; 0: 1500 (set the kernel side to match) */
    bool no_tso;       /* keel cuts its own segments (no transmit_tso) */
    bool no_rx_offload;/* the kernel sends only MTU-sized, checksummed packets */
    unsigned rx_batch; /* packets one turn of tun_loop_once reads; 0: all waiting */
};

struct tun_stats {
    uint64_t rx_packets, rx_bytes;
    uint64_t rx_gso;          /* large GSO packets handed to keel whole */
    uint64_t rx_csum_done;    /* NEEDS_CSUM packets whose checksum tun completed */
    uint64_t rx_dropped;      /* too long for the caller's buffer, or a GSO kind keel
                               * does not take */
    uint64_t tx_packets, tx_bytes;
    uint64_t tx_tso;          /* large packets the kernel segmented */
    uint64_t tx_sw_segmented; /* large packets cut in software (TSO refused) */
    uint64_t tx_errors;       /* writes that failed */
};

struct tun_device {
    struct keel_device dev; /* what the stack uses */
    int fd;
    char name[16];          /* IFNAMSIZ */
    bool rx_offload;        /* TUNSETOFFLOAD took TUN_F_CSUM | TUN_F_TSO4 */
    unsigned rx_batch, rx_left; /* reads allowed per turn, and left in this one */
    struct tun_stats stats;
};

/* Creates the TUN device (it exists while t->fd is open). Returns 0, or a
 * negative keel_err with a sentence in err[0..errlen): KEEL_ENOENT (no
 * /dev/net/tun), KEEL_EPERM (not root: CAP_NET_ADMIN is needed), KEEL_EINVAL
 * (bad options), KEEL_EIO (any other refusal). */
int tun_open(struct tun_device *t, const struct tun_options *o, char *err, size_t errlen);
void tun_close(struct tun_device *t);
/* The device part alone, on a descriptor that already speaks the TUN
 * protocol (one virtio_net_hdr and one packet per read and write): what
 * tun_open does after its ioctls, and what tests use with a socketpair.
 * Leaves t->name and t->rx_offload as they are (zero t first). */
void tun_device_init_fd(struct tun_device *t, int fd, uint32_t mtu, bool tso, unsigned rx_batch);

/* CLOCK_MONOTONIC in microseconds. */
uint64_t tun_now_us(void);

/* One turn of the loop that runs a stack on a real device: sleeps in ppoll()
 * on t's descriptor and the caller's extra descriptors (at most 8) until one
 * of them is ready, keel_next_deadline(st) comes, or max_wait_us passes; then
 * calls keel_poll(st, now), which reads at most rx_batch packets, so that the
 * application reads between batches (with 64 KB GSO packets, draining the
 * whole queue first would fill keel's receive buffer and close the window).
 * Returns now (CLOCK_MONOTONIC, microseconds); the extras' revents say which
 * of them are ready. st must use t, directly or through middleware. */
uint64_t tun_loop_once(keel_stack *st, struct tun_device *t, struct pollfd *extra,
                       unsigned n_extra, uint64_t max_wait_us);

#endif
