/* prefork_echo: a preforking server. The parent listens, forks N children
 * that all accept() on the listener they inherited, then closes its own copy
 * of the listener (the children's copies keep it open) and waits for them.
 * Each child serves one connection at a time: it writes "pid PID\n", then
 * echoes until end of file, closes, and accepts the next.
 *
 * usage: prefork_echo PORT [ADDR] N
 * Prints "listening on ADDR:PORT" once every child is running, and
 * "children exited" when the last one is gone (then exits 0). */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "write_all.h"

static void serve(int lfd) {
  for (;;) {
    int cfd = accept(lfd, NULL, NULL);
    if (cfd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      perror("accept");
      _exit(1);
    }
    char buf[16384];
    int n = snprintf(buf, sizeof buf, "pid %d\n", (int)getpid());
    if (write_all(cfd, buf, (size_t)n) < 0) perror("write");
    for (;;) {
      ssize_t r = read(cfd, buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) perror("read");
      if (r <= 0) break;
      if (write_all(cfd, buf, (size_t)r) < 0) {
        perror("write");
        break;
      }
    }
    if (close(cfd) < 0) perror("close");
  }
}

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: %s PORT [ADDR] N\n", argv[0]);
    return 2;
  }
  const char* addr_s = argc == 4 ? argv[2] : "0.0.0.0";
  int children = atoi(argv[argc - 1]);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
  if (inet_pton(AF_INET, addr_s, &a.sin_addr) != 1 || children < 1) {
    fprintf(stderr, "bad address or count\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
      bind(lfd, (struct sockaddr*)&a, sizeof a) < 0 || listen(lfd, 128) < 0) {
    perror("listen");
    return 1;
  }
  fflush(stdout);
  for (int i = 0; i < children; i++) {
    pid_t pid = fork();
    if (pid < 0) {
      perror("fork");
      return 1;
    }
    if (pid == 0) serve(lfd);
  }
  /* The children hold the listener now: this close must not end it. */
  if (close(lfd) < 0) {
    perror("close");
    return 1;
  }
  printf("listening on %s:%s\n", addr_s, argv[1]);
  fflush(stdout);
  while (wait(NULL) > 0 || errno == EINTR) {
  }
  printf("children exited\n");
  return 0;
}
