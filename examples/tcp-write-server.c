/*
 * tcp-write-server: a step-by-step TCP server. Before each system call it
 * prints "before NAME()" and waits for ENTER, then makes the call and prints
 * its return value. It accepts one connection, writes SIZE bytes to it and
 * closes it; with --infinite it keeps writing until the peer goes away and
 * then accepts the next connection.
 *
 * Run with --help for the options.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static bool no_wait = false;

static void usage(FILE* out, const char* prog) {
  fprintf(out,
          "usage: %s [OPTIONS]\n"
          "\n"
          "Step-by-step TCP server: waits for ENTER before each system call.\n"
          "\n"
          "  -l, --listen ADDR     local IPv4 address to bind (default 0.0.0.0)\n"
          "  -p, --port PORT       local port to bind (default 8000)\n"
          "  -b, --blog BACKLOG    listen() backlog (default 5)\n"
          "  -s, --size BYTES      bytes per write() call (default 32)\n"
          "  -i, --infinite        keep writing SIZE bytes until the peer closes,\n"
          "                        then close and accept the next connection\n"
          "  -d, --delay SECONDS   pause between writes with -i (default 0; fractions ok)\n"
          "  -r, --reuse           set SO_REUSEADDR before bind()\n"
          "  -n, --no-wait         do not wait for ENTER between steps\n"
          "  -h, --help            show this help\n"
          "\n"
          "At end of file on standard input the program stops waiting for ENTER.\n",
          prog);
}

/* Prints "before NAME()" and waits for a line on stdin unless --no-wait. */
static void step(const char* name) {
  printf("before %s()\n", name);
  if (no_wait) return;
  int c;
  while ((c = getchar()) != EOF && c != '\n') {
  }
  if (c == EOF) no_wait = true; /* scripted: nothing more to wait for */
}

/* printf() that leaves errno untouched, for reporting a call's return value
 * before its error is examined. */
__attribute__((format(printf, 1, 2))) static void report(const char* fmt, ...) {
  int err = errno;
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  errno = err;
}

static void fail(const char* call) {
  int err = errno;
  printf("%s() failed: %s\n", call, strerror(err));
  exit(1);
}

static long parse_long(const char* opt, const char* s, long min, long max) {
  char* end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
    fprintf(stderr, "invalid value for %s: %s (expected %ld..%ld)\n", opt, s, min, max);
    exit(1);
  }
  return v;
}

static double parse_delay(const char* s) {
  char* end = NULL;
  errno = 0;
  double v = strtod(s, &end);
  if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < 0 || v > 1e6) {
    fprintf(stderr, "invalid value for --delay: %s\n", s);
    exit(1);
  }
  return v;
}

static void sleep_seconds(double seconds) {
  if (seconds <= 0) return;
  struct timespec ts;
  ts.tv_sec = (time_t)seconds;
  ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

int main(int argc, char* argv[]) {
  const char* listen_addr = "0.0.0.0";
  long port = 8000;
  long backlog = 5;
  long size = 32;
  bool infinite = false;
  double delay = 0;
  bool reuse = false;

  static const struct option long_opts[] = {
      {"listen", required_argument, NULL, 'l'}, {"port", required_argument, NULL, 'p'},
      {"blog", required_argument, NULL, 'b'},   {"size", required_argument, NULL, 's'},
      {"infinite", no_argument, NULL, 'i'},     {"delay", required_argument, NULL, 'd'},
      {"reuse", no_argument, NULL, 'r'},        {"no-wait", no_argument, NULL, 'n'},
      {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
  };
  int opt;
  while ((opt = getopt_long(argc, argv, "l:p:b:s:id:rnh", long_opts, NULL)) != -1) {
    switch (opt) {
      case 'l':
        listen_addr = optarg;
        break;
      case 'p':
        port = parse_long("--port", optarg, 0, 65535);
        break;
      case 'b':
        backlog = parse_long("--blog", optarg, 0, 1000000);
        break;
      case 's':
        size = parse_long("--size", optarg, 1, 1L << 30);
        break;
      case 'i':
        infinite = true;
        break;
      case 'd':
        delay = parse_delay(optarg);
        break;
      case 'r':
        reuse = true;
        break;
      case 'n':
        no_wait = true;
        break;
      case 'h':
        usage(stdout, argv[0]);
        return 0;
      default:
        usage(stderr, argv[0]);
        return 1;
    }
  }
  if (optind != argc) {
    fprintf(stderr, "unexpected argument: %s\n", argv[optind]);
    usage(stderr, argv[0]);
    return 1;
  }

  struct sockaddr_in addr;
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  if (inet_pton(AF_INET, listen_addr, &addr.sin_addr) != 1) {
    fprintf(stderr, "invalid IPv4 address for --listen: %s\n", listen_addr);
    return 1;
  }

  /* Line-buffer stdout so every step is visible immediately, even in a pipe. */
  setvbuf(stdout, NULL, _IOLBF, 0);

  /* With -i the peer closing is the normal way out of the write loop: make
   * write() report EPIPE instead of the process dying from SIGPIPE. */
  if (infinite) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPIPE, &sa, NULL) < 0) fail("sigaction");
  }

  char* buf = malloc((size_t)size);
  if (buf == NULL) {
    fprintf(stderr, "out of memory for %ld bytes\n", size);
    return 1;
  }
  for (long i = 0; i < size; i++) buf[i] = (char)('a' + i % 26);

  step("socket");
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  report("socket() returned %d\n", lfd);
  if (lfd < 0) fail("socket");

  if (reuse) {
    step("setsockopt");
    int one = 1;
    int rc = setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    report("setsockopt(SO_REUSEADDR) returned %d\n", rc);
    if (rc < 0) fail("setsockopt");
  }

  step("bind");
  int rc = bind(lfd, (struct sockaddr*)&addr, sizeof(addr));
  report("bind(%s:%ld) returned %d\n", listen_addr, port, rc);
  if (rc < 0) fail("bind");

  step("listen");
  rc = listen(lfd, (int)backlog);
  report("listen(%ld) returned %d\n", backlog, rc);
  if (rc < 0) fail("listen");

  do {
    step("accept");
    struct sockaddr_in peer;
    socklen_t peer_len = sizeof(peer);
    int cfd = accept(lfd, (struct sockaddr*)&peer, &peer_len);
    report("accept() returned %d\n", cfd);
    if (cfd < 0) fail("accept");
    char ip[INET_ADDRSTRLEN];
    if (inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof(ip)) == NULL) fail("inet_ntop");
    printf("connection from %s:%u\n", ip, (unsigned)ntohs(peer.sin_port));

    step("write");
    long long total = 0;
    for (bool first = true;; first = false) {
      if (!first) sleep_seconds(delay);
      ssize_t n = write(cfd, buf, (size_t)size);
      report("write() returned %zd\n", n);
      if (n < 0) {
        if (!infinite) fail("write");
        printf("write() failed: %s\n", strerror(errno));
        break;
      }
      total += n;
      if (!infinite) break;
    }
    if (infinite) printf("wrote %lld bytes in total\n", total);

    step("close");
    rc = close(cfd);
    report("close() returned %d\n", rc);
    if (rc < 0) fail("close");
  } while (infinite);

  rc = close(lfd);
  report("close() of listening socket returned %d\n", rc);
  free(buf);
  return rc < 0 ? 1 : 0;
}
