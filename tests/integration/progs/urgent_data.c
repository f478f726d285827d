/* urgent_data: TCP urgent data both ways, as the lab's OOB exercise does it.
 *
 *   urgent_data server PORT        accepts one connection
 *   urgent_data client HOST PORT   connects
 *
 * Once the server says "g", the client sends "ab", then "c" with MSG_OOB, then "de". The server
 * waits for the exceptional condition with select(), reads "ab" (the read stops at the mark), sees
 * SIOCATMARK, reads 'c' with recv(MSG_OOB) (recvmsg says MSG_OOB), then "de" without the urgent
 * byte. Then the server sends "xy", "z" urgent and "w", and the client, with SO_OOBINLINE, sees the
 * urgent byte in line: "xy" up to the mark, then "zw"; recv(MSG_OOB) is EINVAL. Prints one line per
 * check; exits 0 when all pass. The server owns its socket (F_SETOWN) and gets exactly one SIGURG.
 * Run it against the kernel stack and under veer: the checks describe
 * Linux. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

static int failures;
static volatile sig_atomic_t sigurgs;

static void on_sigurg(int sig) {
  (void)sig;
  ++sigurgs;
}

static void check(int ok, const char* what) {
  printf("%s: %s\n", ok ? "ok" : "FAIL", what);
  fflush(stdout);
  if (!ok) ++failures;
}

static int at_mark(int fd) {
  int v = -1;
  if (ioctl(fd, SIOCATMARK, &v) < 0) return -1;
  return v;
}

/* Waits (5 s at most) until select() reports fd exceptional: urgent data.
 * A SIGURG may interrupt it (select is never restarted): wait again. */
static int wait_exceptional(int fd) {
  for (int i = 0; i < 10; ++i) {
    fd_set ex;
    FD_ZERO(&ex);
    FD_SET(fd, &ex);
    struct timeval tv = {.tv_sec = 5};
    int n = select(fd + 1, NULL, NULL, &ex, &tv);
    if (n < 0 && errno == EINTR) continue;
    return n == 1 && FD_ISSET(fd, &ex);
  }
  return 0;
}

/* Reads exactly n bytes. */
static int read_full(int fd, char* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = recv(fd, buf + got, n - got, 0);
    if (r <= 0) return -1;
    got += (size_t)r;
  }
  return 0;
}

static void send_with_oob(int fd, const char* before, char urgent, const char* after) {
  if (send(fd, before, strlen(before), 0) < 0 || send(fd, &urgent, 1, MSG_OOB) != 1 ||
      send(fd, after, strlen(after), 0) < 0) {
    perror("send");
    exit(2);
  }
}

static void server(int port) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (bind(l, (struct sockaddr*)&a, sizeof a) < 0 || listen(l, 1) < 0) {
    perror("listen");
    exit(2);
  }
  printf("listening\n");
  fflush(stdout);
  int fd = accept(l, NULL, NULL);
  if (fd < 0) {
    perror("accept");
    exit(2);
  }
  /* The urgent pointer raises SIGURG for the socket's owner. */
  struct sigaction sa = {.sa_handler = on_sigurg};
  sigaction(SIGURG, &sa, NULL);
  check(fcntl(fd, F_SETOWN, getpid()) == 0 && fcntl(fd, F_GETOWN) == getpid(),
        "server: F_SETOWN makes this process the owner");
  char c = 0;
  check(recv(fd, &c, 1, MSG_OOB) < 0 && errno == EINVAL,
        "server: recv(MSG_OOB) before any urgent data is EINVAL");
  /* Only now may the client send. */
  if (send(fd, "g", 1, 0) != 1) {
    perror("send");
    exit(2);
  }
  check(wait_exceptional(fd), "server: select() reports the urgent data as exceptional");
  check(sigurgs == 1, "server: one SIGURG for the one urgent pointer");
  char buf[16] = {0};
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  check(n == 2 && memcmp(buf, "ab", 2) == 0, "server: the read stops at the mark (\"ab\")");
  check(at_mark(fd) == 1, "server: SIOCATMARK says the urgent byte is next");
  char peeked = 0;
  check(recv(fd, &peeked, 1, MSG_OOB | MSG_PEEK) == 1 && peeked == 'c',
        "server: MSG_OOB|MSG_PEEK shows 'c'");
  struct iovec iov = {.iov_base = &c, .iov_len = 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  check(recvmsg(fd, &msg, MSG_OOB) == 1 && c == 'c' && (msg.msg_flags & MSG_OOB),
        "server: recvmsg(MSG_OOB) reads 'c' and says MSG_OOB");
  check(recv(fd, &c, 1, MSG_OOB) < 0 && errno == EINVAL,
        "server: a second recv(MSG_OOB) is EINVAL");
  memset(buf, 0, sizeof buf);
  check(read_full(fd, buf, 2) == 0 && memcmp(buf, "de", 2) == 0,
        "server: then \"de\", without the urgent byte");
  check(at_mark(fd) == 0, "server: past the mark");
  check(sigurgs == 1, "server: still one SIGURG (retransmissions and later data raise none)");
  send_with_oob(fd, "xy", 'z', "w");
  /* The client closes when done: EOF here. */
  check(recv(fd, buf, sizeof buf, 0) == 0, "server: EOF after the client's checks");
  close(fd);
  close(l);
}

static void client(const char* host, int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  check(setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &one, sizeof one) == 0,
        "client: SO_OOBINLINE set before connect");
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, host, &a.sin_addr);
  if (connect(fd, (struct sockaddr*)&a, sizeof a) < 0) {
    perror("connect");
    exit(2);
  }
  int v = 0;
  socklen_t len = sizeof v;
  check(getsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &v, &len) == 0 && v == 1,
        "client: SO_OOBINLINE reads back 1");
  char go = 0;
  check(recv(fd, &go, 1, 0) == 1 && go == 'g', "client: the server's go-ahead");
  send_with_oob(fd, "ab", 'c', "de");
  check(wait_exceptional(fd), "client: select() reports the server's urgent data");
  char buf[16] = {0};
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  check(n == 2 && memcmp(buf, "xy", 2) == 0, "client: in line, the read still stops at the mark");
  check(at_mark(fd) == 1, "client: SIOCATMARK at the in-line urgent byte");
  char c;
  check(recv(fd, &c, 1, MSG_OOB) < 0 && errno == EINVAL, "client: recv(MSG_OOB) is EINVAL in line");
  memset(buf, 0, sizeof buf);
  check(read_full(fd, buf, 2) == 0 && memcmp(buf, "zw", 2) == 0,
        "client: the urgent byte is read in line (\"zw\")");
  close(fd);
}

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "server") == 0) {
    server(atoi(argv[2]));
  } else if (argc == 4 && strcmp(argv[1], "client") == 0) {
    client(argv[2], atoi(argv[3]));
  } else {
    fprintf(stderr, "usage: urgent_data server PORT | client HOST PORT\n");
    return 2;
  }
  if (failures == 0) printf("all checks passed\n");
  return failures ? 1 : 0;
}
