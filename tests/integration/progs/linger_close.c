/* linger_close: SO_LINGER with a time makes close() wait until the FIN is
 * acknowledged, at most that many seconds (Linux's tcp_close()).
 *
 * usage: linger_close HOST PORT SECONDS
 * Connects, sets SO_LINGER {1, SECONDS}, writes a few bytes, prints "ready"
 * and waits for a line on stdin (the test may cut the peer off meanwhile),
 * then closes and prints how long close() took: "close took N ms". */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s HOST PORT SECONDS\n", argv[0]);
    return 2;
  }
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
  inet_pton(AF_INET, argv[1], &a.sin_addr);
  if (connect(fd, (struct sockaddr*)&a, sizeof a) < 0) {
    perror("connect");
    return 1;
  }
  struct linger lg = {1, atoi(argv[3])};
  if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) < 0) {
    perror("setsockopt");
    return 1;
  }
  if (write(fd, "linger\n", 7) != 7) return 1;
  printf("ready\n");
  fflush(stdout);
  char line[16];
  if (!fgets(line, sizeof line, stdin)) return 1;
  double t0 = now_ms();
  int r = close(fd);
  printf("close returned %d, close took %.0f ms\n", r, now_ms() - t0);
  return r == 0 ? 0 : 1;
}
