/*
 * connect_lines: for each line "IP PORT" on standard input, connect to it,
 * send one character, close, and say how it went and how long connect()
 * took:
 *
 *   connect 10.77.0.1:18000: ok after 0.00s
 *   connect 10.77.0.1:18002: Connection timed out after 3.01s
 *
 * It stays alive between lines, so a test can change a running veer
 * process (veer sysctl -p, veer capture -p) and then make it connect.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void) {
  char line[256];
  printf("ready\n");
  fflush(stdout);
  while (fgets(line, sizeof line, stdin)) {
    char ip[64];
    unsigned port;
    if (sscanf(line, "%63s %u", ip, &port) != 2 || port == 0 || port > 65535) {
      printf("bad line: %s", line);
      fflush(stdout);
      continue;
    }
    struct sockaddr_in dst;
    memset(&dst, 0, sizeof dst);
    dst.sin_family = AF_INET;
    dst.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, ip, &dst.sin_addr) != 1) {
      printf("bad address: %s\n", ip);
      fflush(stdout);
      continue;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
      perror("socket");
      return 1;
    }
    double start = now_s();
    int rc = connect(fd, (struct sockaddr*)&dst, sizeof dst);
    int err = errno;
    double took = now_s() - start;
    if (rc == 0) {
      if (write(fd, "c", 1) != 1) perror("write");
      printf("connect %s:%u: ok after %.2fs\n", ip, port, took);
    } else {
      printf("connect %s:%u: %s after %.2fs\n", ip, port, strerror(err), took);
    }
    fflush(stdout);
    close(fd);
  }
  return 0;
}
