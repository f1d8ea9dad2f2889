/* Software segmentation offload: cuts one large TCP/IPv4 packet into
 * segments of at most mss payload bytes, as Linux GSO does. */
#ifndef KEEL_LINK_GSO_H
#define KEEL_LINK_GSO_H

#include <stddef.h>
#include <stdint.h>

/* Calls emit for each segment, in order: IPv4 total length, ID (incremented
 * per segment) and header checksum, TCP sequence number and checksum are
 * rewritten; FIN and PSH go on the last segment only, CWR on the first only.
 * Returns 0, the first negative value emit returned, or -1 if pkt is not a
 * well-formed TCP/IPv4 packet. */
int gso_segment(const uint8_t *pkt, size_t len, uint16_t mss,
                int (*emit)(void *arg, const uint8_t *seg, size_t len), void *arg);

#endif
