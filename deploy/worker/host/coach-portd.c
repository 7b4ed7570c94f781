/*
 * coach-portd: published ports of a Docker Coach sandbox, inside the learner's host shell.
 *
 * Sandbox networks are internal, so the engine publishes nothing for `docker run -p`. The
 * coach keeps the table of published ports (which running container gets which host port)
 * and hands it to this forwarder, which listens in the host shell's own network namespace
 * (the learner's "machine") and relays to the containers: `wget localhost:8080` in /sh
 * reaches `web:80`. Nothing ever listens on the worker itself.
 *
 *   coach-portd daemon        start the forwarder (no-op when one runs); it reloads the
 *                             table it was last given (STATE_FILE)
 *   coach-portd apply ENTRY…  replace the table; prints "ERR ENTRY reason" for an entry that
 *                             could not be bound and exits 1 if there was any
 *   coach-portd show          print the table in force
 *
 *   ENTRY = PROTO:LISTEN_IP:LISTEN_PORT:TARGET_IP:TARGET_PORT  (tcp or udp, IPv4)
 *
 * One process, one epoll loop: TCP connections are relayed with a buffer per direction and
 * half-closes passed on; UDP is relayed per client address through a socket of its own that
 * expires after UDP_IDLE seconds. Connections and UDP clients are capped.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CONTROL_NAME "docker-coach-portd"
#define STATE_DIR "/var/lib/coach-portd"
#define STATE_FILE STATE_DIR "/table"
#define MAX_ENTRIES 128
#define MAX_CONNS 256
#define MAX_UDP 128
#define BUF 16384
#define UDP_IDLE 60
#define LINE 128

enum kind { K_LISTEN = 1, K_CONN, K_UDP_LISTEN, K_UDP_PEER, K_CONTROL };

struct ref {
    enum kind kind;
    int index, which; /* which: 0 = a, 1 = b for connections */
};

struct entry {
    int used, udp;
    struct sockaddr_in listen, target;
    int fd;
    struct ref ref;
};

struct conn; /* one side of a relayed TCP connection */
struct side {
    int fd;
    char buf[BUF]; /* data read from this side, waiting to go to the other */
    size_t len, off;
    int eof, shut; /* read EOF; shutdown(SHUT_WR) done on this side */
};
struct conn {
    int used, connecting;
    struct side a, b; /* a: the client, b: the container */
    struct ref ra, rb;
};

struct udp {
    int used, fd, entry;
    struct sockaddr_in client;
    time_t last;
    struct ref ref;
};

static struct entry entries[MAX_ENTRIES];
static struct conn conns[MAX_CONNS];
static struct udp udps[MAX_UDP];
static int ep = -1;

static struct ref *ref_set(struct ref *r, enum kind kind, int index, int which) {
    r->kind = kind;
    r->index = index;
    r->which = which;
    return r;
}

static int watch(int fd, uint32_t events, struct ref *ref) {
    struct epoll_event ev = {.events = events, .data.ptr = ref};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void rewatch(int fd, uint32_t events, struct ref *ref) {
    struct epoll_event ev = {.events = events, .data.ptr = ref};
    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

static void nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

/* ---------------------------------------------------------------------------- entries */

static int parse_addr(char *ip, char *port, struct sockaddr_in *out) {
    char *end;
    long number = strtol(port, &end, 10);
    memset(out, 0, sizeof *out);
    out->sin_family = AF_INET;
    if (*end || number < 1 || number > 65535) return -1;
    out->sin_port = htons((uint16_t)number);
    return inet_pton(AF_INET, ip, &out->sin_addr) == 1 ? 0 : -1;
}

/* "tcp:0.0.0.0:8080:10.0.0.2:80" → entry; -1 when malformed */
static int parse_entry(const char *text, struct entry *out) {
    char copy[LINE], *parts[5], *save = NULL;
    int count = 0;
    if (strlen(text) >= sizeof copy) return -1;
    strcpy(copy, text);
    for (char *p = strtok_r(copy, ":", &save); p && count < 5; p = strtok_r(NULL, ":", &save))
        parts[count++] = p;
    if (count != 5 || strtok_r(NULL, ":", &save)) return -1;
    memset(out, 0, sizeof *out);
    if (!strcmp(parts[0], "udp"))
        out->udp = 1;
    else if (strcmp(parts[0], "tcp"))
        return -1;
    if (parse_addr(parts[1], parts[2], &out->listen) || parse_addr(parts[3], parts[4], &out->target))
        return -1;
    out->fd = -1;
    out->used = 1;
    return 0;
}

static void format_entry(const struct entry *e, char *out, size_t size) {
    char l[INET_ADDRSTRLEN], t[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &e->listen.sin_addr, l, sizeof l);
    inet_ntop(AF_INET, &e->target.sin_addr, t, sizeof t);
    snprintf(out, size, "%s:%s:%u:%s:%u", e->udp ? "udp" : "tcp", l, ntohs(e->listen.sin_port), t,
             ntohs(e->target.sin_port));
}

static int same_listen(const struct entry *a, const struct entry *b) {
    return a->udp == b->udp && a->listen.sin_port == b->listen.sin_port &&
           a->listen.sin_addr.s_addr == b->listen.sin_addr.s_addr;
}

static int open_listener(struct entry *e, int index, char *why, size_t size) {
    int fd = socket(AF_INET, (e->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0) {
        snprintf(why, size, "socket: %s", strerror(errno));
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&e->listen, sizeof e->listen) ||
        (!e->udp && listen(fd, 64))) {
        snprintf(why, size, "bind: %s", strerror(errno));
        close(fd);
        return -1;
    }
    nonblock(fd);
    e->fd = fd;
    watch(fd, EPOLLIN, ref_set(&e->ref, e->udp ? K_UDP_LISTEN : K_LISTEN, index, 0));
    return 0;
}

static void close_udp(int i) {
    if (!udps[i].used) return;
    epoll_ctl(ep, EPOLL_CTL_DEL, udps[i].fd, NULL);
    close(udps[i].fd);
    udps[i].used = 0;
}

static void close_entry(int i) {
    if (!entries[i].used) return;
    if (entries[i].fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, entries[i].fd, NULL);
        close(entries[i].fd);
    }
    for (int u = 0; u < MAX_UDP; u++)
        if (udps[u].used && udps[u].entry == i) close_udp(u);
    entries[i].used = 0;
}

static void save_table(void) {
    char line[LINE];
    mkdir("/var", 0755); /* the table outlives a restart of the shell: its parents may */
    mkdir("/var/lib", 0755); /* be missing from a BusyBox root (no /var/lib there) */
    mkdir(STATE_DIR, 0700);
    FILE *f = fopen(STATE_FILE ".new", "w");
    if (!f) return;
    for (int i = 0; i < MAX_ENTRIES; i++)
        if (entries[i].used) {
            format_entry(&entries[i], line, sizeof line);
            fprintf(f, "%s\n", line);
        }
    if (fclose(f) == 0) rename(STATE_FILE ".new", STATE_FILE);
}

/* Replace the table with `wanted` (count entries); errors are written to `report`. A
 * listener whose address stays is kept (its target may change); removed ones close. */
static int apply(struct entry *wanted, int count, FILE *report) {
    int failed = 0;
    char why[96], line[LINE];
    for (int i = 0; i < MAX_ENTRIES; i++) {
        if (!entries[i].used) continue;
        int kept = 0;
        for (int w = 0; w < count && !kept; w++)
            if (wanted[w].used && same_listen(&entries[i], &wanted[w])) {
                entries[i].target = wanted[w].target;
                wanted[w].used = 0; /* taken care of */
                kept = 1;
            }
        if (!kept) close_entry(i);
    }
    for (int w = 0; w < count; w++) {
        if (!wanted[w].used) continue;
        int slot = -1;
        for (int i = 0; i < MAX_ENTRIES && slot < 0; i++)
            if (!entries[i].used) slot = i;
        format_entry(&wanted[w], line, sizeof line);
        if (slot < 0) {
            if (report) fprintf(report, "ERR %s too many published ports\n", line);
            failed = 1;
            continue;
        }
        entries[slot] = wanted[w];
        if (open_listener(&entries[slot], slot, why, sizeof why)) {
            entries[slot].used = 0;
            if (report) fprintf(report, "ERR %s %s\n", line, why);
            failed = 1;
        }
    }
    save_table();
    return failed;
}

/* ------------------------------------------------------------------------------- TCP */

static void close_conn(int i) {
    struct conn *c = &conns[i];
    if (!c->used) return;
    epoll_ctl(ep, EPOLL_CTL_DEL, c->a.fd, NULL);
    epoll_ctl(ep, EPOLL_CTL_DEL, c->b.fd, NULL);
    close(c->a.fd);
    close(c->b.fd);
    c->used = 0;
}

static void accept_tcp(int index) {
    int fd = accept4(entries[index].fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    int slot = -1;
    for (int i = 0; i < MAX_CONNS && slot < 0; i++)
        if (!conns[i].used) slot = i;
    int up = slot < 0 ? -1 : socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (up < 0) {
        close(fd);
        return;
    }
    if (connect(up, (struct sockaddr *)&entries[index].target, sizeof entries[index].target) &&
        errno != EINPROGRESS) {
        close(up);
        close(fd); /* the container is gone: the client sees the connection closed */
        return;
    }
    struct conn *c = &conns[slot];
    memset(c, 0, sizeof *c);
    c->used = 1;
    c->connecting = 1;
    c->a.fd = fd;
    c->b.fd = up;
    watch(fd, 0, ref_set(&c->ra, K_CONN, slot, 0));
    watch(up, EPOLLOUT, ref_set(&c->rb, K_CONN, slot, 1));
}

/* Interest of each side: read while our buffer has room and the peer can take it; write
 * while the other side's buffer has data. */
static void conn_interest(int i) {
    struct conn *c = &conns[i];
    uint32_t ea = 0, eb = 0;
    if (!c->a.eof && c->a.len == 0) ea |= EPOLLIN;
    if (!c->b.eof && c->b.len == 0) eb |= EPOLLIN;
    if (c->b.len > c->b.off || (c->b.eof && !c->a.shut)) ea |= EPOLLOUT;
    if (c->a.len > c->a.off || (c->a.eof && !c->b.shut)) eb |= EPOLLOUT;
    rewatch(c->a.fd, ea, &c->ra);
    rewatch(c->b.fd, eb, &c->rb);
}

/* Move what `from` read into `to`; 0 ok, -1 when the connection is over. */
static int pump(struct side *from, struct side *to) {
    while (from->len > from->off) {
        ssize_t n = send(to->fd, from->buf + from->off, from->len - from->off, MSG_NOSIGNAL);
        if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
        from->off += (size_t)n;
    }
    from->len = from->off = 0;
    if (from->eof && !to->shut) {
        shutdown(to->fd, SHUT_WR);
        to->shut = 1;
    }
    return 0;
}

static int fill(struct side *s) {
    ssize_t n = recv(s->fd, s->buf, sizeof s->buf, 0);
    if (n > 0) {
        s->len = (size_t)n;
        s->off = 0;
        return 0;
    }
    if (n == 0) {
        s->eof = 1;
        return 0;
    }
    return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
}

static void on_conn(struct ref *ref, uint32_t events) {
    int i = ref->index;
    struct conn *c = &conns[i];
    if (!c->used) return;
    if (c->connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->b.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err || (events & (EPOLLERR | EPOLLHUP))) {
            close_conn(i);
            return;
        }
        c->connecting = 0;
    } else if (events & EPOLLERR) {
        close_conn(i);
        return;
    }
    struct side *self = ref->which ? &c->b : &c->a;
    if ((events & (EPOLLIN | EPOLLHUP)) && !self->eof && self->len == 0 && fill(self)) {
        close_conn(i);
        return;
    }
    if (pump(&c->a, &c->b) || pump(&c->b, &c->a)) {
        close_conn(i);
        return;
    }
    if (c->a.eof && c->b.eof && c->a.len == 0 && c->b.len == 0) {
        close_conn(i);
        return;
    }
    conn_interest(i);
}

/* ------------------------------------------------------------------------------- UDP */

static void on_udp_listen(int index) {
    char buf[65536];
    struct sockaddr_in from;
    socklen_t len = sizeof from;
    ssize_t n = recvfrom(entries[index].fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);
    if (n < 0) return;
    int slot = -1, free_slot = -1, oldest = 0;
    for (int u = 0; u < MAX_UDP; u++) {
        if (!udps[u].used) {
            if (free_slot < 0) free_slot = u;
            continue;
        }
        if (udps[u].entry == index && udps[u].client.sin_port == from.sin_port &&
            udps[u].client.sin_addr.s_addr == from.sin_addr.s_addr)
            slot = u;
        if (udps[u].last < udps[oldest].last || !udps[oldest].used) oldest = u;
    }
    if (slot < 0) {
        if (free_slot < 0) {
            close_udp(oldest);
            free_slot = oldest;
        }
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) return;
        if (connect(fd, (struct sockaddr *)&entries[index].target, sizeof entries[index].target)) {
            close(fd);
            return;
        }
        slot = free_slot;
        udps[slot] = (struct udp){.used = 1, .fd = fd, .entry = index, .client = from};
        watch(fd, EPOLLIN, ref_set(&udps[slot].ref, K_UDP_PEER, slot, 0));
    }
    udps[slot].last = time(NULL);
    send(udps[slot].fd, buf, (size_t)n, MSG_NOSIGNAL);
}

static void on_udp_peer(int slot) {
    char buf[65536];
    struct udp *u = &udps[slot];
    if (!u->used) return;
    ssize_t n = recv(u->fd, buf, sizeof buf, 0);
    if (n < 0) return;
    u->last = time(NULL);
    sendto(entries[u->entry].fd, buf, (size_t)n, 0, (struct sockaddr *)&u->client,
           sizeof u->client);
}

static void expire_udp(void) {
    time_t now = time(NULL);
    for (int u = 0; u < MAX_UDP; u++)
        if (udps[u].used && now - udps[u].last > UDP_IDLE) close_udp(u);
}

/* --------------------------------------------------------------------------- control */

static socklen_t control_address(struct sockaddr_un *addr) {
    memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    memcpy(addr->sun_path + 1, CONTROL_NAME, strlen(CONTROL_NAME)); /* abstract */
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(CONTROL_NAME));
}

/* One client: lines of entries ("END" closes the list, "SHOW" asks for the table). */
static void on_client(int fd) {
    static struct entry wanted[MAX_ENTRIES];
    char line[LINE];
    int count = 0, bad = 0;
    FILE *in = fdopen(dup(fd), "r"), *out = fdopen(fd, "w");
    if (!in || !out) {
        if (in) fclose(in);
        if (out) fclose(out); else close(fd);
        return;
    }
    while (fgets(line, sizeof line, in)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!strcmp(line, "END")) break;
        if (!strcmp(line, "SHOW")) {
            for (int i = 0; i < MAX_ENTRIES; i++)
                if (entries[i].used) {
                    format_entry(&entries[i], line, sizeof line);
                    fprintf(out, "%s\n", line);
                }
            fprintf(out, "DONE\n");
            fclose(in);
            fclose(out);
            return;
        }
        if (count >= MAX_ENTRIES || parse_entry(line, &wanted[count])) {
            fprintf(out, "ERR %s malformed\n", line);
            bad = 1;
            continue;
        }
        count++;
    }
    if (!bad) apply(wanted, count, out);
    fprintf(out, "DONE\n");
    fclose(in);
    fclose(out);
}

static void load_state(void) {
    static struct entry wanted[MAX_ENTRIES];
    char line[LINE];
    int count = 0;
    FILE *f = fopen(STATE_FILE, "r");
    if (!f) return;
    while (count < MAX_ENTRIES && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!parse_entry(line, &wanted[count])) count++;
    }
    fclose(f);
    apply(wanted, count, NULL);
}

static void serve(int control) {
    static struct ref control_ref;
    struct epoll_event events[64];
    watch(control, EPOLLIN, ref_set(&control_ref, K_CONTROL, 0, 0));
    load_state();
    for (;;) {
        int n = epoll_wait(ep, events, 64, 5000);
        if (n < 0 && errno != EINTR) exit(1);
        for (int k = 0; k < n; k++) {
            struct ref *ref = events[k].data.ptr;
            switch (ref->kind) {
            case K_CONTROL: {
                int fd = accept4(control, NULL, NULL, SOCK_CLOEXEC);
                if (fd >= 0) {
                    struct timeval tv = {.tv_sec = 5};
                    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
                    on_client(fd);
                }
                break;
            }
            case K_LISTEN:
                if (entries[ref->index].used) accept_tcp(ref->index);
                break;
            case K_UDP_LISTEN:
                if (entries[ref->index].used) on_udp_listen(ref->index);
                break;
            case K_UDP_PEER:
                on_udp_peer(ref->index);
                break;
            case K_CONN:
                on_conn(ref, events[k].events);
                break;
            default:
                break;
            }
        }
        expire_udp();
    }
}

static int daemon_start(void) {
    struct sockaddr_un addr;
    socklen_t len = control_address(&addr);
    int control = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (control < 0) return 1;
    if (bind(control, (struct sockaddr *)&addr, len) || listen(control, 16)) {
        close(control);
        return errno == EADDRINUSE ? 0 : 1; /* one runs already */
    }
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid > 0) {
        close(control);
        return 0;
    }
    setsid();
    if (fork() > 0) _exit(0);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        if (null > 2) close(null);
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) _exit(1);
    serve(control);
    _exit(0);
}

static int talk(char **lines, int count, int show) {
    struct sockaddr_un addr;
    socklen_t len = control_address(&addr);
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return 2;
        if (connect(fd, (struct sockaddr *)&addr, len)) {
            close(fd);
            if (attempt == 0 && daemon_start() == 0) continue;
            fprintf(stderr, "coach-portd: no forwarder: %s\n", strerror(errno));
            return 2;
        }
        FILE *io = fdopen(fd, "r+");
        if (!io) return 2;
        if (show)
            fprintf(io, "SHOW\n");
        else {
            for (int i = 0; i < count; i++) fprintf(io, "%s\n", lines[i]);
            fprintf(io, "END\n");
        }
        fflush(io);
        char line[LINE + 64];
        int failed = 0;
        while (fgets(line, sizeof line, io)) {
            if (!strcmp(line, "DONE\n")) break;
            if (!strncmp(line, "ERR ", 4)) failed = 1;
            fputs(line, stdout);
        }
        fclose(io);
        return failed;
    }
    return 2;
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "daemon")) return daemon_start();
    if (argc >= 2 && !strcmp(argv[1], "apply")) return talk(argv + 2, argc - 2, 0);
    if (argc == 2 && !strcmp(argv[1], "show")) return talk(NULL, 0, 1);
    fprintf(stderr, "usage: coach-portd daemon | apply [PROTO:IP:PORT:TARGET_IP:PORT...] | show\n");
    return 2;
}
