/* mixed_wait: waits on a TCP socket, a pipe and a timerfd together, with
 * epoll, poll and select in turn, and checks that each wait wakes for the
 * right fd and only for it. Also checks a nonblocking connect (EINPROGRESS,
 * then writable with SO_ERROR 0, or POLLERR with ECONNREFUSED on a closed
 * port), the edge-triggered and one-shot epoll modes, and nested epoll (an
 * epoll fd holding the socket and the pipe, inside another epoll set and
 * named in poll() and select()).
 *
 * usage: mixed_wait HOST ECHO_PORT CLOSED_PORT
 *   ECHO_PORT: a server that echoes what it gets; CLOSED_PORT: nobody listens.
 * Prints one line per check; exits 0 when all pass. Plain libc: run it under
 * veer (LD_PRELOAD) to check veer, or without to see what the kernel does. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char* what) {
  printf("%s: %s\n", ok ? "ok" : "FAIL", what);
  fflush(stdout);
  if (!ok) ++failures;
}

static int nb_connect(const char* host, int port, int* err_out) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    perror("socket");
    exit(2);
  }
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, host, &a.sin_addr);
  int r = connect(fd, (struct sockaddr*)&a, sizeof a);
  check(r == -1 && errno == EINPROGRESS, "nonblocking connect returns EINPROGRESS");
  struct pollfd p = {fd, POLLOUT, 0};
  r = poll(&p, 1, 5000);
  check(r == 1, "poll wakes when the connect ends");
  int err = -1;
  socklen_t len = sizeof err;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  *err_out = err;
  if (err == 0)
    check((p.revents & POLLOUT) && !(p.revents & POLLERR), "connected: POLLOUT");
  else
    check((p.revents & POLLERR) != 0, "refused: POLLERR");
  return fd;
}

enum { SOCK, PIPE, TIMER, NFDS };
static const char* names[NFDS] = {"socket", "pipe", "timerfd"};

/* Makes fd `which` ready: data from the echo server, a byte in the pipe, or
 * the timer firing after 50 ms. */
static void make_ready(int which, int fds[NFDS], int pipe_w) {
  if (which == SOCK) {
    if (write(fds[SOCK], "x", 1) != 1) perror("write socket");
  } else if (which == PIPE) {
    if (write(pipe_w, "p", 1) != 1) perror("write pipe");
  } else {
    struct itimerspec its = {.it_value = {0, 50 * 1000 * 1000}};
    timerfd_settime(fds[TIMER], 0, &its, NULL);
  }
}

static void consume(int which, int fds[NFDS]) {
  char buf[16];
  if (which == TIMER) {
    uint64_t n;
    if (read(fds[TIMER], &n, sizeof n) != sizeof n) perror("read timerfd");
  } else if (read(fds[which], buf, 1) != 1) {
    perror("read");
  }
}

typedef int (*wait_fn)(int fds[NFDS], int timeout_ms, int ready[NFDS]);

static int epfd;
static int wait_epoll(int fds[NFDS], int timeout_ms, int ready[NFDS]) {
  (void)fds; /* the epoll set holds them */
  struct epoll_event ev[NFDS];
  int n = epoll_wait(epfd, ev, NFDS, timeout_ms);
  for (int i = 0; i < n; ++i) ready[ev[i].data.u32] = 1;
  return n;
}

static int wait_poll(int fds[NFDS], int timeout_ms, int ready[NFDS]) {
  struct pollfd p[NFDS];
  for (int i = 0; i < NFDS; ++i) p[i] = (struct pollfd){fds[i], POLLIN, 0};
  int n = poll(p, NFDS, timeout_ms);
  for (int i = 0; i < NFDS; ++i) ready[i] = p[i].revents != 0;
  return n;
}

static int wait_select(int fds[NFDS], int timeout_ms, int ready[NFDS]) {
  fd_set r;
  FD_ZERO(&r);
  int max = 0;
  for (int i = 0; i < NFDS; ++i) {
    FD_SET(fds[i], &r);
    if (fds[i] > max) max = fds[i];
  }
  struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  int n = select(max + 1, &r, NULL, NULL, &tv);
  for (int i = 0; i < NFDS; ++i) ready[i] = n > 0 && FD_ISSET(fds[i], &r);
  return n;
}

static void run_waits(const char* api, wait_fn wait, int fds[NFDS], int pipe_w) {
  char what[128];
  int ready[NFDS] = {0};
  int n = wait(fds, 100, ready);
  snprintf(what, sizeof what, "%s: nothing ready, times out after 100 ms", api);
  check(n == 0, what);
  for (int which = 0; which < NFDS; ++which) {
    make_ready(which, fds, pipe_w);
    memset(ready, 0, sizeof ready);
    n = wait(fds, 5000, ready);
    int only = n == 1 && ready[which];
    for (int i = 0; i < NFDS; ++i)
      if (i != which && ready[i]) only = 0;
    snprintf(what, sizeof what, "%s wakes for the %s alone", api, names[which]);
    check(only, what);
    consume(which, fds);
  }
}

/* Nested epoll: an epoll fd inside another epoll set is readable while its
 * own set has something to report; poll() and select() on it say so too. */
static void nested_epoll(int fds[NFDS], int pipe_w) {
  enum { INNER = 42 };
  int inner = epoll_create1(EPOLL_CLOEXEC);
  int outer = epoll_create1(EPOLL_CLOEXEC);
  /* The inner set goes into the outer one before it holds anything. */
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = INNER};
  check(epoll_ctl(outer, EPOLL_CTL_ADD, inner, &ev) == 0,
        "nested epoll: ADD an epoll fd to another");
  check(epoll_ctl(outer, EPOLL_CTL_ADD, inner, &ev) == -1 && errno == EEXIST,
        "nested epoll: ADD it twice: EEXIST");
  check(epoll_ctl(inner, EPOLL_CTL_ADD, inner, &ev) == -1 && errno == EINVAL,
        "nested epoll: ADD an epoll fd to itself: EINVAL");
  check(epoll_ctl(inner, EPOLL_CTL_ADD, outer, &ev) == -1 && errno == ELOOP,
        "nested epoll: ADD the outer set to the inner one (a loop): ELOOP");
  for (int which = SOCK; which <= PIPE; ++which) {
    struct epoll_event in = {.events = EPOLLIN, .data.u32 = (uint32_t)which};
    if (epoll_ctl(inner, EPOLL_CTL_ADD, fds[which], &in) < 0) perror("epoll_ctl inner");
  }
  struct epoll_event out[4];
  struct pollfd p = {inner, POLLIN, 0};
  check(epoll_wait(outer, out, 4, 100) == 0, "nested epoll: nothing ready, the outer times out");
  check(poll(&p, 1, 0) == 0, "nested epoll: poll() on the inner epoll fd: nothing");
  char what[128];
  for (int which = SOCK; which <= PIPE; ++which) {
    make_ready(which, fds, pipe_w);
    int n = epoll_wait(outer, out, 4, 5000);
    snprintf(what, sizeof what, "nested epoll: the outer reports the inner epoll fd (the %s)",
             names[which]);
    check(n == 1 && out[0].data.u32 == INNER && (out[0].events & EPOLLIN), what);
    p.revents = 0;
    snprintf(what, sizeof what, "nested epoll: poll() on the inner epoll fd: POLLIN (the %s)",
             names[which]);
    check(poll(&p, 1, 0) == 1 && (p.revents & POLLIN), what);
    fd_set r;
    FD_ZERO(&r);
    FD_SET(inner, &r);
    struct timeval tv = {0, 0};
    snprintf(what, sizeof what, "nested epoll: select() on the inner epoll fd: readable (the %s)",
             names[which]);
    check(select(inner + 1, &r, NULL, NULL, &tv) == 1 && FD_ISSET(inner, &r), what);
    n = epoll_wait(inner, out, 4, 0);
    snprintf(what, sizeof what, "nested epoll: then the inner reports the %s alone", names[which]);
    check(n == 1 && out[0].data.u32 == (uint32_t)which, what);
    consume(which, fds);
    snprintf(what, sizeof what, "nested epoll: the %s read, the outer times out again",
             names[which]);
    check(epoll_wait(outer, out, 4, 100) == 0, what);
  }
  /* Edge-triggered: once per arrival, not again for data left unread. */
  ev.events = EPOLLIN | EPOLLET;
  check(epoll_ctl(outer, EPOLL_CTL_MOD, inner, &ev) == 0, "nested epoll: MOD to EPOLLET");
  make_ready(SOCK, fds, pipe_w);
  check(epoll_wait(outer, out, 4, 5000) == 1 && out[0].data.u32 == INNER,
        "nested epoll, EPOLLET: the outer reports the arrival");
  check(epoll_wait(outer, out, 4, 200) == 0,
        "nested epoll, EPOLLET: unread data is not reported twice");
  make_ready(SOCK, fds, pipe_w);
  check(epoll_wait(outer, out, 4, 5000) == 1 && out[0].data.u32 == INNER,
        "nested epoll, EPOLLET: the outer reports the next arrival");
  consume(SOCK, fds);
  /* Wait for the second byte to be there before reading it. */
  if (epoll_wait(inner, out, 4, 5000) != 1) perror("epoll_wait inner");
  consume(SOCK, fds);
  /* One-shot: reported once, then silent (also for the pipe) until MOD. */
  ev.events = EPOLLIN | EPOLLONESHOT;
  check(epoll_ctl(outer, EPOLL_CTL_MOD, inner, &ev) == 0, "nested epoll: MOD to EPOLLONESHOT");
  make_ready(SOCK, fds, pipe_w);
  check(epoll_wait(outer, out, 4, 5000) == 1 && out[0].data.u32 == INNER,
        "nested epoll, EPOLLONESHOT: first report");
  make_ready(PIPE, fds, pipe_w);
  check(epoll_wait(outer, out, 4, 200) == 0,
        "nested epoll, EPOLLONESHOT: disarmed after it (socket and pipe ready)");
  check(epoll_ctl(outer, EPOLL_CTL_MOD, inner, &ev) == 0 && epoll_wait(outer, out, 4, 5000) == 1 &&
            out[0].data.u32 == INNER,
        "nested epoll, EPOLLONESHOT: re-armed by MOD");
  consume(SOCK, fds);
  consume(PIPE, fds);
  ev.events = EPOLLIN;
  epoll_ctl(outer, EPOLL_CTL_MOD, inner, &ev);
  /* Two levels: a third set holding the outer one. */
  int top = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event top_ev = {.events = EPOLLIN, .data.u32 = 7};
  check(epoll_ctl(top, EPOLL_CTL_ADD, outer, &top_ev) == 0, "nested epoll: a second level");
  check(epoll_wait(top, out, 4, 100) == 0, "nested epoll, two levels: nothing ready, times out");
  make_ready(SOCK, fds, pipe_w);
  check(epoll_wait(top, out, 4, 5000) == 1 && out[0].data.u32 == 7,
        "nested epoll, two levels: the top set reports the socket's arrival");
  check(epoll_ctl(inner, EPOLL_CTL_ADD, top, &top_ev) == -1 && errno == ELOOP,
        "nested epoll, two levels: a loop through three sets: ELOOP");
  consume(SOCK, fds);
  check(epoll_wait(top, out, 4, 100) == 0, "nested epoll, two levels: read, times out again");
  close(top);
  /* Removed from the outer set: no report any more. */
  check(epoll_ctl(outer, EPOLL_CTL_DEL, inner, NULL) == 0, "nested epoll: DEL the inner set");
  make_ready(SOCK, fds, pipe_w);
  check(epoll_wait(inner, out, 4, 5000) == 1 && out[0].data.u32 == SOCK,
        "nested epoll: the inner set still reports the socket");
  check(epoll_wait(outer, out, 4, 100) == 0, "nested epoll: the outer does not, after DEL");
  consume(SOCK, fds);
  close(outer);
  close(inner);
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s HOST ECHO_PORT CLOSED_PORT\n", argv[0]);
    return 2;
  }
  const char* host = argv[1];
  int err;
  int refused = nb_connect(host, atoi(argv[3]), &err);
  check(err == ECONNREFUSED, "SO_ERROR says ECONNREFUSED");
  close(refused);

  int fds[NFDS];
  fds[SOCK] = nb_connect(host, atoi(argv[2]), &err);
  check(err == 0, "SO_ERROR is 0 after connecting");
  int flags = fcntl(fds[SOCK], F_GETFL);
  fcntl(fds[SOCK], F_SETFL, flags & ~O_NONBLOCK);
  int p[2];
  if (pipe(p) < 0) return 2;
  fds[PIPE] = p[0];
  fds[TIMER] = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);

  epfd = epoll_create1(EPOLL_CLOEXEC);
  for (int i = 0; i < NFDS; ++i) {
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fds[i], &ev) < 0) perror("epoll_ctl");
  }
  struct epoll_event dup_ev = {.events = EPOLLIN};
  check(epoll_ctl(epfd, EPOLL_CTL_ADD, fds[SOCK], &dup_ev) == -1 && errno == EEXIST,
        "epoll_ctl ADD twice: EEXIST");
  run_waits("epoll", wait_epoll, fds, p[1]);
  run_waits("poll", wait_poll, fds, p[1]);
  run_waits("select", wait_select, fds, p[1]);
  nested_epoll(fds, p[1]);

  /* Edge-triggered: one report per arrival, none for data already seen. */
  struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u32 = SOCK};
  epoll_ctl(epfd, EPOLL_CTL_MOD, fds[SOCK], &ev);
  make_ready(SOCK, fds, p[1]);
  int ready[NFDS] = {0};
  check(wait_epoll(fds, 5000, ready) == 1 && ready[SOCK], "EPOLLET: reports the arrival");
  memset(ready, 0, sizeof ready);
  check(wait_epoll(fds, 200, ready) == 0, "EPOLLET: unread data is not reported twice");
  consume(SOCK, fds);
  /* One-shot: reported once, then silent until EPOLL_CTL_MOD re-arms it. */
  ev.events = EPOLLIN | EPOLLONESHOT;
  epoll_ctl(epfd, EPOLL_CTL_MOD, fds[SOCK], &ev);
  make_ready(SOCK, fds, p[1]);
  memset(ready, 0, sizeof ready);
  check(wait_epoll(fds, 5000, ready) == 1 && ready[SOCK], "EPOLLONESHOT: first report");
  memset(ready, 0, sizeof ready);
  check(wait_epoll(fds, 200, ready) == 0, "EPOLLONESHOT: disarmed after it");
  epoll_ctl(epfd, EPOLL_CTL_MOD, fds[SOCK], &ev);
  memset(ready, 0, sizeof ready);
  check(wait_epoll(fds, 5000, ready) == 1 && ready[SOCK], "EPOLLONESHOT: re-armed by MOD");
  consume(SOCK, fds);
  check(epoll_ctl(epfd, EPOLL_CTL_DEL, fds[SOCK], NULL) == 0, "epoll_ctl DEL");
  check(epoll_ctl(epfd, EPOLL_CTL_DEL, fds[SOCK], NULL) == -1 && errno == ENOENT,
        "epoll_ctl DEL again: ENOENT");

  /* The peer closes: POLLIN with EOF, and EPOLLRDHUP. */
  shutdown(fds[SOCK], SHUT_WR);
  ev.events = EPOLLIN | EPOLLRDHUP;
  epoll_ctl(epfd, EPOLL_CTL_ADD, fds[SOCK], &ev);
  struct epoll_event out;
  int n = epoll_wait(epfd, &out, 1, 5000);
  check(n == 1 && (out.events & EPOLLRDHUP), "EPOLLRDHUP when the peer closes");
  char c;
  check(read(fds[SOCK], &c, 1) == 0, "then read() returns 0");
  close(fds[SOCK]);
  printf("%s\n", failures ? "SOME CHECKS FAILED" : "all checks passed");
  return failures ? 1 : 0;
}
