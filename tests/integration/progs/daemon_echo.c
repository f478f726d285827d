/* daemon_echo: an echo server that listens, then detaches with glibc's
 * daemon(): the process that opened the listener (and started veer's stack)
 * leaves with _exit(), without exit handlers, and the child it forked serves
 * every connection on the listener it inherited.
 *
 * usage: daemon_echo PORT PIDFILE
 * The daemon writes its pid to PIDFILE once it runs, then echoes each
 * connection until end of file, one at a time, until killed. */
#define _DEFAULT_SOURCE

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "write_all.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s PORT PIDFILE\n", argv[0]);
    return 2;
  }
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  int on = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
  if (lfd < 0 || bind(lfd, (struct sockaddr*)&a, sizeof a) < 0 || listen(lfd, 16) < 0) {
    perror("listen");
    return 1;
  }
  /* Keep the working directory and stdout/stderr: the test reads them. */
  if (daemon(1, 1) < 0) {
    perror("daemon");
    return 1;
  }
  FILE* f = fopen(argv[2], "w");
  if (!f) return 1;
  fprintf(f, "%d\n", (int)getpid());
  fclose(f);
  char buf[65536];
  for (;;) {
    int cfd = accept(lfd, NULL, NULL);
    if (cfd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      perror("accept");
      return 1;
    }
    ssize_t n;
    while ((n = read(cfd, buf, sizeof buf)) > 0)
      if (write_all(cfd, buf, (size_t)n) < 0) break;
    close(cfd);
  }
}
