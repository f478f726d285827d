/*
 * tcp-steps: runs a list of socket calls given on the command line and prints
 * each call's return value and errno, one line per call, so that `veer
 * compare` can put what the program saw under the kernel and under veer side
 * by side.
 *
 * usage: tcp-steps STEP...
 *
 *   listen:PORT[:BACKLOG]  socket(), SO_REUSEADDR, bind(0.0.0.0:PORT), listen(BACKLOG or 5)
 *   socket            a new socket for later steps (the previous one stays open)
 *   reuseaddr         SO_REUSEADDR on the socket
 *   rcvbuf:N          SO_RCVBUF N on the socket, or on the next listener if none
 *   bind:PORT         bind(0.0.0.0:PORT)
 *   accept            accept() on the listener; later steps use the new socket
 *   connect:IP:PORT   socket() (unless one is open) and connect()
 *   write:N           write() N bytes
 *   read:N            one read() of up to N bytes
 *   readall           read() until end of file or an error; prints the total
 *   shutdown:wr|rd|rdwr
 *   linger:SECONDS    SO_LINGER on, with SECONDS
 *   oob:C             send() one byte C with MSG_OOB
 *   recvoob           recv(MSG_OOB) of one byte
 *   oobinline         SO_OOBINLINE on
 *   atmark            ioctl(SIOCATMARK)
 *   close             close() the socket (the listener stays open)
 *   closelisten       close() the listener
 *   sleep:SECONDS     sleep (fractions allowed)
 *
 * Each line reads "STEP = RET [ERRNO] (SECONDSs)": the time the call took,
 * which `veer compare` compares with a tolerance.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int sock = -1;
static int listener = -1;
static int listener_rcvbuf = 0; /* SO_RCVBUF for the next listener, if set */

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char* errno_name(int err) {
  const char* name = strerrorname_np(err);
  return name ? name : "E?";
}

static void report(const char* step, long ret, int err, double took) {
  if (ret < 0) {
    printf("%s = %ld %s (%.2fs)\n", step, ret, errno_name(err), took);
  } else {
    printf("%s = %ld (%.2fs)\n", step, ret, took);
  }
  fflush(stdout);
}

static int new_socket(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    perror("socket");
    exit(2);
  }
  return fd;
}

/* Runs one step; returns its result (negative with errno set on failure). */
static long run_step(const char* step) {
  char buf[65536];
  int n = 0;
  int backlog = 5;
  if (sscanf(step, "listen:%d:%d", &n, &backlog) >= 1) {
    listener = new_socket();
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (listener_rcvbuf > 0 &&
        setsockopt(listener, SOL_SOCKET, SO_RCVBUF, &listener_rcvbuf, sizeof(listener_rcvbuf)) < 0)
      return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)n)};
    if (bind(listener, (struct sockaddr*)&a, sizeof(a)) < 0) return -1;
    return listen(listener, backlog);
  }
  if (strcmp(step, "socket") == 0) {
    sock = new_socket();
    return 0; /* the fd number itself may differ */
  }
  if (strcmp(step, "reuseaddr") == 0) {
    int one = 1;
    return setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  }
  if (sscanf(step, "rcvbuf:%d", &n) == 1) {
    if (sock >= 0) return setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &n, sizeof(n));
    listener_rcvbuf = n;
    return 0;
  }
  if (sscanf(step, "bind:%d", &n) == 1) {
    if (sock < 0) sock = new_socket();
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)n)};
    return bind(sock, (struct sockaddr*)&a, sizeof(a));
  }
  if (strcmp(step, "accept") == 0) {
    sock = accept(listener, NULL, NULL);
    return sock < 0 ? -1 : 0; /* the fd number itself may differ */
  }
  if (strncmp(step, "connect:", 8) == 0) {
    char ip[64];
    if (sscanf(step + 8, "%63[^:]:%d", ip, &n) != 2) return -2;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)n)};
    if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) return -2;
    if (sock < 0) sock = new_socket();
    return connect(sock, (struct sockaddr*)&a, sizeof(a));
  }
  if (sscanf(step, "write:%d", &n) == 1) {
    if (n > (int)sizeof(buf)) n = sizeof(buf);
    memset(buf, 'x', (size_t)n);
    return write(sock, buf, (size_t)n);
  }
  if (sscanf(step, "read:%d", &n) == 1) {
    if (n > (int)sizeof(buf)) n = sizeof(buf);
    return read(sock, buf, (size_t)n);
  }
  if (strcmp(step, "readall") == 0) {
    long total = 0;
    for (;;) {
      ssize_t r = read(sock, buf, sizeof(buf));
      if (r < 0) return -1;
      if (r == 0) return total;
      total += r;
    }
  }
  if (strncmp(step, "shutdown:", 9) == 0) {
    const char* how = step + 9;
    int h = strcmp(how, "wr") == 0 ? SHUT_WR : strcmp(how, "rd") == 0 ? SHUT_RD : SHUT_RDWR;
    return shutdown(sock, h);
  }
  if (sscanf(step, "linger:%d", &n) == 1) {
    struct linger l = {.l_onoff = 1, .l_linger = n};
    return setsockopt(sock, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  }
  if (strncmp(step, "oob:", 4) == 0) return send(sock, step + 4, 1, MSG_OOB);
  if (strcmp(step, "recvoob") == 0) return recv(sock, buf, 1, MSG_OOB);
  if (strcmp(step, "oobinline") == 0) {
    int one = 1;
    return setsockopt(sock, SOL_SOCKET, SO_OOBINLINE, &one, sizeof(one));
  }
  if (strcmp(step, "atmark") == 0) {
    int mark = 0;
    if (ioctl(sock, SIOCATMARK, &mark) < 0) return -1;
    return mark;
  }
  if (strcmp(step, "close") == 0) {
    int r = close(sock);
    sock = -1;
    return r;
  }
  if (strcmp(step, "closelisten") == 0) {
    int r = close(listener);
    listener = -1;
    return r;
  }
  if (strncmp(step, "sleep:", 6) == 0) {
    double s = atof(step + 6);
    struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
    return 0;
  }
  fprintf(stderr, "tcp-steps: unknown step '%s'\n", step);
  exit(2);
}

int main(int argc, char* argv[]) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s STEP...\n", argv[0]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN); /* EPIPE is a result to print */
  for (int i = 1; i < argc; i++) {
    double start = now();
    errno = 0;
    long ret = run_step(argv[i]);
    int err = errno;
    report(argv[i], ret, err, now() - start);
  }
  return 0;
}
