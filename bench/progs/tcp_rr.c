/* tcp_rr: the end-to-end benchmark's load generator, plain libc so that it
 * runs unmodified on the kernel stack and under veer.
 *
 *   tcp_rr server PORT
 *       Serves every connection in its own thread: reads requests of any
 *       size and answers each read with as many bytes; EOF closes.
 *   tcp_rr rr HOST PORT SIZE SECONDS
 *       One connection, SIZE-byte requests answered by SIZE bytes, one at a
 *       time, for SECONDS. Prints "rr size=N count=N tps=N p50_us=N p99_us=N".
 *   tcp_rr crr HOST PORT SECONDS
 *       Connect, 1-byte request, 1-byte answer, close, as fast as it goes.
 *       Prints "crr count=N cps=N".
 *   tcp_rr hold PORT
 *       Accepts connections and keeps them open, one thread, no reads:
 *       the server side of the idle-connection memory figure.
 *   tcp_rr idle HOST PORT COUNT
 *       Opens COUNT connections, prints "idle ready N", holds them until
 *       stdin closes. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* TCP_RR_BUSY_POLL=US: SO_BUSY_POLL on every socket (the kernel's per-socket
 * busy polling; veer takes net.core.busy_read from its own knobs instead). */
static void busy_poll(int fd) {
  const char* us = getenv("TCP_RR_BUSY_POLL");
  if (!us) return;
  int v = atoi(us);
  (void)setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &v, sizeof v);
}

static void die(const char* what) {
  perror(what);
  exit(2);
}

static int connect_to(const char* host, int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  busy_poll(fd);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, host, &a.sin_addr);
  if (connect(fd, (struct sockaddr*)&a, sizeof a) < 0) die("connect");
  return fd;
}

static int read_full(int fd, char* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, buf + got, n - got);
    if (r <= 0) return -1;
    got += (size_t)r;
  }
  return 0;
}

static void* serve(void* arg) {
  int fd = (int)(long)arg;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  busy_poll(fd);
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    if (write(fd, buf, (size_t)n) != n) break;
  }
  close(fd);
  return NULL;
}

/* A listener on PORT (any address), announced with "listening". */
static int listen_on(int port) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (bind(l, (struct sockaddr*)&a, sizeof a) < 0 || listen(l, 4096) < 0) die("listen");
  printf("listening\n");
  fflush(stdout);
  return l;
}

static void server(int port) {
  int l = listen_on(port);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 128 * 1024);
  for (;;) {
    int fd = accept(l, NULL, NULL);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      die("accept");
    }
    pthread_t t;
    if (pthread_create(&t, &attr, serve, (void*)(long)fd) != 0) close(fd);
  }
}

static void hold(int port) {
  struct rlimit rl = {.rlim_cur = 1 << 20, .rlim_max = 1 << 20};
  setrlimit(RLIMIT_NOFILE, &rl);
  int l = listen_on(port);
  long n = 0;
  for (;;) {
    if (accept(l, NULL, NULL) < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      die("accept");
    }
    if (++n % 1000 == 0) printf("held %ld\n", n);
  }
}

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

static void rr(const char* host, int port, size_t size, double seconds) {
  int fd = connect_to(host, port);
  char* buf = calloc(1, size);
  size_t cap = 1 << 20, count = 0;
  double* lat = malloc(cap * sizeof *lat);
  double end = now_us() + seconds * 1e6;
  while (now_us() < end) {
    double t0 = now_us();
    if (write(fd, buf, size) != (ssize_t)size || read_full(fd, buf, size) < 0) die("rr");
    if (count == cap) lat = realloc(lat, (cap *= 2) * sizeof *lat);
    lat[count++] = now_us() - t0;
  }
  qsort(lat, count, sizeof *lat, cmp_double);
  printf("rr size=%zu count=%zu tps=%.0f p50_us=%.1f p99_us=%.1f\n", size, count, count / seconds,
         lat[count / 2], lat[count * 99 / 100]);
  close(fd);
}

static void crr(const char* host, int port, double seconds) {
  size_t count = 0;
  double start = now_us(), end = start + seconds * 1e6;
  char c = 'x';
  while (now_us() < end) {
    int fd = connect_to(host, port);
    /* The client closes first, so TIME_WAIT is on the client's (kernel)
     * side in every configuration. */
    if (write(fd, &c, 1) != 1 || read_full(fd, &c, 1) < 0) die("crr");
    close(fd);
    ++count;
  }
  double took = (now_us() - start) / 1e6;
  printf("crr count=%zu cps=%.0f\n", count, count / took);
}

static void idle(const char* host, int port, int n) {
  struct rlimit rl = {.rlim_cur = (rlim_t)n + 64, .rlim_max = (rlim_t)n + 64};
  setrlimit(RLIMIT_NOFILE, &rl);
  for (int i = 0; i < n; ++i) connect_to(host, port);
  printf("idle ready %d\n", n);
  fflush(stdout);
  char c;
  while (read(0, &c, 1) > 0) {
  }
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc == 3 && !strcmp(argv[1], "server")) server(atoi(argv[2]));
  if (argc == 3 && !strcmp(argv[1], "hold")) hold(atoi(argv[2]));
  if (argc == 6 && !strcmp(argv[1], "rr")) {
    rr(argv[2], atoi(argv[3]), (size_t)atoi(argv[4]), atof(argv[5]));
    return 0;
  }
  if (argc == 5 && !strcmp(argv[1], "crr")) {
    crr(argv[2], atoi(argv[3]), atof(argv[4]));
    return 0;
  }
  if (argc == 5 && !strcmp(argv[1], "idle")) {
    idle(argv[2], atoi(argv[3]), atoi(argv[4]));
    return 0;
  }
  fprintf(stderr,
          "usage: tcp_rr server PORT | hold PORT | rr HOST PORT SIZE SECONDS | "
          "crr HOST PORT SECONDS | idle HOST PORT COUNT\n");
  return 2;
}
