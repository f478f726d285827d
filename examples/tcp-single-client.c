/*
 * tcp-single-client: connect to a server, send a single character and close.
 *
 * usage: tcp-single-client DEST_IP [CHAR [PORT]]   (default port 18000)
 *
 * Without CHAR, one character is read from standard input.
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
  if (argc < 2 || argc > 4) {
    fprintf(stderr, "usage: %s DEST_IP [CHAR [PORT]]\n", argv[0]);
    return 1;
  }

  struct sockaddr_in dst;
  memset(&dst, 0, sizeof(dst));
  dst.sin_family = AF_INET;
  if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1) {
    fprintf(stderr, "invalid IPv4 address: %s\n", argv[1]);
    return 1;
  }
  unsigned short port = argc == 4 ? parse_port(argv[3]) : DEFAULT_PORT;
  dst.sin_port = htons(port);

  unsigned char c;
  if (argc >= 3) {
    if (argv[2][0] == '\0') {
      fprintf(stderr, "CHAR must not be empty\n");
      return 1;
    }
    c = (unsigned char)argv[2][0];
  } else {
    int ch = getchar();
    if (ch == EOF) {
      fprintf(stderr, "no character on standard input\n");
      return 1;
    }
    c = (unsigned char)ch;
  }

  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");

  if (connect(fd, (struct sockaddr*)&dst, sizeof(dst)) < 0) die("connect");

  ssize_t n = write(fd, &c, 1);
  if (n < 0) die("write");
  if (n != 1) {
    fprintf(stderr, "write: short write\n");
    return 1;
  }

  char shown[8];
  printf("sent '%s' to %s:%u\n", show_char(c, shown), argv[1], (unsigned)port);
  fflush(stdout);

  if (close(fd) < 0) die("close");
  return 0;
}
