/*
 * tcp-single-server: accept connections one at a time, read a single
 * character from each, print it and close the connection.
 *
 * usage: tcp-single-server [PORT]        (default port 18000)
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_PORT 18000

static void die(const char* what) {
  perror(what);
  exit(1);
}

static unsigned short parse_port(const char* s) {
  char* end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < 1 || v > 65535) {
    fprintf(stderr, "invalid port: %s\n", s);
    exit(1);
  }
  return (unsigned short)v;
}

/* Formats c for display: printable characters as-is, others as \xNN. */
static const char* show_char(unsigned char c, char buf[8]) {
  if (isprint(c)) {
    buf[0] = (char)c;
    buf[1] = '\0';
  } else {
    snprintf(buf, 8, "\\x%02x", c);
  }
  return buf;
}

int main(int argc, char* argv[]) {
  if (argc > 2) {
    fprintf(stderr, "usage: %s [PORT]\n", argv[0]);
    return 1;
  }
  unsigned short port = argc == 2 ? parse_port(argv[1]) : DEFAULT_PORT;

  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  if (lfd < 0) die("socket");

  int one = 1;
  if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) die("setsockopt");

  struct sockaddr_in addr;
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = htons(port);
  if (bind(lfd, (struct sockaddr*)&addr, sizeof(addr)) < 0) die("bind");

  if (listen(lfd, 5) < 0) die("listen");

  printf("listening on 0.0.0.0:%u\n", (unsigned)port);
  fflush(stdout);

  for (;;) {
    struct sockaddr_in peer;
    socklen_t peer_len = sizeof(peer);
    int cfd = accept(lfd, (struct sockaddr*)&peer, &peer_len);
    if (cfd < 0) die("accept");

    char ip[INET_ADDRSTRLEN];
    if (inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof(ip)) == NULL) die("inet_ntop");
    unsigned peer_port = ntohs(peer.sin_port);
    printf("connection from %s:%u\n", ip, peer_port);
    fflush(stdout);

    unsigned char c;
    ssize_t n = read(cfd, &c, 1);
    if (n < 0) die("read");
    if (n == 0) {
      printf("no data from %s:%u (connection closed)\n", ip, peer_port);
    } else {
      char shown[8];
      printf("received '%s' from %s:%u\n", show_char(c, shown), ip, peer_port);
    }
    fflush(stdout);

    if (close(cfd) < 0) die("close");
  }
}
