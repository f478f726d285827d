/*
 * tcp-read-client: a step-by-step TCP client. Before each system call it
 * prints "before NAME()" and waits for ENTER, then makes the call and prints
 * its return value. It connects, reads until end of file and closes.
 *
 * Run with --help for the options.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static bool no_wait = false;

static void usage(FILE* out, const char* prog) {
  fprintf(out,
          "usage: %s [OPTIONS]\n"
          "\n"
          "Step-by-step TCP client: waits for ENTER before each system call.\n"
          "\n"
          "  -d, --dst ADDR     server IPv4 address (default 127.0.0.1)\n"
          "  -p, --dport PORT   server port (default 8000)\n"
          "  -s, --size BYTES   bytes requested per read() call (default 32)\n"
          "  -f, --from ADDR    local IPv4 address to bind() (bind only with -f or -z)\n"
          "  -z, --sport PORT   local port to bind() (bind only with -f or -z)\n"
          "  -n, --no-wait      do not wait for ENTER between steps\n"
          "  -h, --help         show this help\n"
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

static void parse_addr(const char* opt, const char* s, struct in_addr* out) {
  if (inet_pton(AF_INET, s, out) != 1) {
    fprintf(stderr, "invalid IPv4 address for %s: %s\n", opt, s);
    exit(1);
  }
}

int main(int argc, char* argv[]) {
  const char* dst_addr = "127.0.0.1";
  long dport = 8000;
  long size = 32;
  const char* from_addr = NULL;
  long sport = -1;

  static const struct option long_opts[] = {
      {"dst", required_argument, NULL, 'd'},   {"dport", required_argument, NULL, 'p'},
      {"size", required_argument, NULL, 's'},  {"from", required_argument, NULL, 'f'},
      {"sport", required_argument, NULL, 'z'}, {"no-wait", no_argument, NULL, 'n'},
      {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
  };
  int opt;
  while ((opt = getopt_long(argc, argv, "d:p:s:f:z:nh", long_opts, NULL)) != -1) {
    switch (opt) {
      case 'd':
        dst_addr = optarg;
        break;
      case 'p':
        dport = parse_long("--dport", optarg, 1, 65535);
        break;
      case 's':
        size = parse_long("--size", optarg, 1, 1L << 30);
        break;
      case 'f':
        from_addr = optarg;
        break;
      case 'z':
        sport = parse_long("--sport", optarg, 0, 65535);
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

  struct sockaddr_in dst;
  memset(&dst, 0, sizeof(dst));
  dst.sin_family = AF_INET;
  dst.sin_port = htons((unsigned short)dport);
  parse_addr("--dst", dst_addr, &dst.sin_addr);

  bool do_bind = from_addr != NULL || sport >= 0;
  struct sockaddr_in local;
  memset(&local, 0, sizeof(local));
  local.sin_family = AF_INET;
  local.sin_addr.s_addr = htonl(INADDR_ANY);
  local.sin_port = htons((unsigned short)(sport >= 0 ? sport : 0));
  if (from_addr != NULL) parse_addr("--from", from_addr, &local.sin_addr);

  char* buf = malloc((size_t)size);
  if (buf == NULL) {
    fprintf(stderr, "out of memory for %ld bytes\n", size);
    return 1;
  }

  /* Line-buffer stdout so every step is visible immediately, even in a pipe. */
  setvbuf(stdout, NULL, _IOLBF, 0);

  step("socket");
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  report("socket() returned %d\n", fd);
  if (fd < 0) fail("socket");

  int rc;
  if (do_bind) {
    step("bind");
    rc = bind(fd, (struct sockaddr*)&local, sizeof(local));
    report("bind(%s:%ld) returned %d\n", from_addr != NULL ? from_addr : "0.0.0.0",
           sport >= 0 ? sport : 0L, rc);
    if (rc < 0) fail("bind");
  }

  step("connect");
  rc = connect(fd, (struct sockaddr*)&dst, sizeof(dst));
  report("connect(%s:%ld) returned %d\n", dst_addr, dport, rc);
  if (rc < 0) fail("connect");

  struct sockaddr_in me;
  socklen_t me_len = sizeof(me);
  char ip[INET_ADDRSTRLEN];
  if (getsockname(fd, (struct sockaddr*)&me, &me_len) == 0 &&
      inet_ntop(AF_INET, &me.sin_addr, ip, sizeof(ip)) != NULL) {
    printf("local address %s:%u\n", ip, (unsigned)ntohs(me.sin_port));
  }

  step("read");
  long long total = 0;
  for (;;) {
    ssize_t n = read(fd, buf, (size_t)size);
    if (n < 0) {
      if (errno == EINTR) continue;
      report("read() returned %zd\n", n);
      fail("read");
    }
    total += n;
    report("read() returned %zd (total %lld)\n", n, total);
    if (n == 0) break;
  }
  printf("end of file: received %lld bytes in total\n", total);

  step("close");
  rc = close(fd);
  report("close() returned %d\n", rc);
  free(buf);
  if (rc < 0) fail("close");
  return 0;
}
