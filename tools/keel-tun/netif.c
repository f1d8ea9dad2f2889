/* The kernel side of the TUN interface, configured with the classic
 * interface ioctls (netdevice(7)): address, netmask, MTU, queue length, up.
 * The netmask gives the kernel its connected route to keel's address
 * through the TUN. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kt.h"

#define NETIF_TXQUEUELEN 4096

static void set_sin(struct sockaddr *sa, uint32_t addr)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(addr);
    memcpy(sa, &sin, sizeof sin);
}

static int req(int fd, unsigned long what, struct ifreq *ifr, const char *name)
{
    if (ioctl(fd, what, ifr) == 0)
        return 0;
    fprintf(stderr, "keel-tun: %s on %s: %s\n", name, ifr->ifr_name, strerror(errno));
    return -1;
}

/* keel speaks IPv4 only: without IPv6 on the interface the kernel sends it
 * no router solicitations (best effort: IPv6 may be absent). */
static void disable_ipv6(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("1\n", f);
        fclose(f);
    }
}

int netif_configure(const char *name, uint32_t addr, int prefix, uint32_t mtu)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("keel-tun: socket");
        return -1;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    uint32_t mask = prefix ? ~0u << (32 - prefix) : 0;
    int rc = 0;
    set_sin(&ifr.ifr_addr, addr);
    rc |= req(fd, SIOCSIFADDR, &ifr, "SIOCSIFADDR");
    set_sin(&ifr.ifr_netmask, mask);
    rc |= req(fd, SIOCSIFNETMASK, &ifr, "SIOCSIFNETMASK");
    ifr.ifr_mtu = (int)mtu;
    rc |= req(fd, SIOCSIFMTU, &ifr, "SIOCSIFMTU");
    /* The TUN's ring toward keel holds tx_queue_len packets (500 by default)
     * and drops beyond: 1,000 SYN-ACKs answering a burst of connects would
     * lose half. */
    ifr.ifr_qlen = NETIF_TXQUEUELEN;
    rc |= req(fd, SIOCSIFTXQLEN, &ifr, "SIOCSIFTXQLEN");
    disable_ipv6(name);
    if (!rc && (rc = req(fd, SIOCGIFFLAGS, &ifr, "SIOCGIFFLAGS")) == 0) {
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        rc = req(fd, SIOCSIFFLAGS, &ifr, "SIOCSIFFLAGS");
    }
    close(fd);
    return rc ? -1 : 0;
}
