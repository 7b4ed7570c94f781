/*
 * udp-probe: the UDP witness of the published-ports tests (BusyBox has no UDP server or
 * client). Built static by tests/sandbox/test_engine_fidelity.py and copied into a sandbox.
 *
 *   udp-probe serve PORT          answer every datagram on PORT with "echo:" + its payload
 *   udp-probe ask IP PORT TEXT    send TEXT, print the answer; "no answer" (exit 1) when the
 *                                 port is closed (connected: ICMP refusals are seen) or
 *                                 after 2 s of silence
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int serve(int port) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(port)};
    me.sin_addr.s_addr = htonl(INADDR_ANY);
    if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
        perror("udp-probe: bind");
        return 1;
    }
    for (;;) {
        char in[512], out[520];
        struct sockaddr_in peer;
        socklen_t size = sizeof peer;
        ssize_t got = recvfrom(fd, in, sizeof in, 0, (struct sockaddr *)&peer, &size);
        if (got < 0)
            continue;
        memcpy(out, "echo:", 5);
        memcpy(out + 5, in, (size_t)got);
        sendto(fd, out, (size_t)got + 5, 0, (struct sockaddr *)&peer, size);
    }
}

static int ask(const char *ip, int port, const char *text) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
    struct timeval wait = {.tv_sec = 2};
    char answer[600];
    if (fd < 0 || inet_pton(AF_INET, ip, &to.sin_addr) != 1)
        return 2;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
    if (connect(fd, (struct sockaddr *)&to, sizeof to) < 0)
        return 2;
    send(fd, text, strlen(text), 0);
    ssize_t got = recv(fd, answer, sizeof answer - 1, 0);
    if (got < 0) {
        puts("no answer");
        return 1;
    }
    answer[got] = 0;
    puts(answer);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "serve") == 0)
        return serve(atoi(argv[2]));
    if (argc == 5 && strcmp(argv[1], "ask") == 0)
        return ask(argv[2], atoi(argv[3]), argv[4]);
    fprintf(stderr, "usage: udp-probe serve PORT | udp-probe ask IP PORT TEXT\n");
    return 2;
}
