/*
 * nfq_delay: holds every packet of an NFQUEUE queue for a fixed time, then accepts it.
 * The lab's "link with added delay" (this kernel has no tc netem; iptables' NFQUEUE target
 * works). Usage: nfq_delay QUEUE_NUMBER DELAY_MS. Once bound it goes to the background and the
 * foreground process prints "ready PID" and exits; the background one runs until killed. (The
 * tests' own processes are short-lived that way, which keeps child reaping simple.)
 * The delay is constant, so packets leave in the order they came.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define CAPACITY 65536

static uint32_t ids[CAPACITY];
static int64_t due[CAPACITY];
static size_t head, tail;
static int64_t delay_ns;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int on_packet(struct nfq_q_handle *q, struct nfgenmsg *msg, struct nfq_data *data, void *arg) {
    (void)msg; (void)arg;
    struct nfqnl_msg_packet_hdr *h = nfq_get_msg_packet_hdr(data);
    if (!h) return 0;
    uint32_t id = ntohl(h->packet_id);
    if (tail - head >= CAPACITY) return nfq_set_verdict(q, id, NF_ACCEPT, 0, NULL); /* full: no delay */
    ids[tail % CAPACITY] = id;
    due[tail % CAPACITY] = now_ns() + delay_ns;
    tail++;
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: nfq_delay QUEUE DELAY_MS\n"); return 64; }
    int queue = atoi(argv[1]);
    delay_ns = (int64_t)atoi(argv[2]) * 1000000;
    struct nfq_handle *h = nfq_open();
    if (!h) { perror("nfq_open"); return 1; }
    struct nfq_q_handle *q = nfq_create_queue(h, (uint16_t)queue, on_packet, NULL);
    if (!q) { perror("nfq_create_queue"); return 1; }
    if (nfq_set_mode(q, NFQNL_COPY_META, 0) < 0) { perror("nfq_set_mode"); return 1; }
    int fd = nfq_fd(h);
    char buf[65536];
    pid_t child = fork();
    if (child < 0) { perror("fork"); return 1; }
    if (child > 0) {
        printf("ready %d\n", (int)child);
        return 0;
    }
    setsid();
    /* Let go of everything inherited but the queue's socket: whoever waits for the caller's
     * pipes (or a descriptor that tells it the caller exited) would otherwise wait forever. */
    for (int i = 3; i < 1024; i++) if (i != fd) close(i);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) { dup2(null, 0); dup2(null, 1); dup2(null, 2); if (null > 2) close(null); }
    for (;;) {
        int timeout = -1;
        if (head != tail) {
            int64_t wait = due[head % CAPACITY] - now_ns();
            timeout = wait > 0 ? (int)(wait / 1000000) + 1 : 0;
        }
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r = poll(&p, 1, timeout);
        if (r < 0 && errno != EINTR) { perror("poll"); return 1; }
        if (r > 0) {
            ssize_t n = recv(fd, buf, sizeof buf, 0);
            if (n > 0) nfq_handle_packet(h, buf, (int)n);
        }
        int64_t t = now_ns();
        while (head != tail && due[head % CAPACITY] <= t) {
            nfq_set_verdict(q, ids[head % CAPACITY], NF_ACCEPT, 0, NULL);
            head++;
        }
    }
}
