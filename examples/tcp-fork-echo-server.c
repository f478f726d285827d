/*
 * tcp-fork-echo-server: the classic inetd-style concurrent server. The
 * parent only accept()s; every connection is served by a child process of
 * its own, made with fork(), which echoes back everything it reads until the
 * client closes its side, then closes the connection and exits.
 *
 * usage: tcp-fork-echo-server PORT [ADDR]      (ADDR defaults to 0.0.0.0)
 *
 * Things to notice:
 *  - After fork() both processes hold the connected socket and the listening
 *    socket. Each closes the one it does not need: the child the listener,
 *    the parent the connection. A TCP connection is only closed (FIN sent)
 *    when the LAST descriptor for it is closed, so the parent's close() does
 *    not end the child's conversation.
 *  - A child that exits stays a "zombie" until its parent collects its exit
 *    status with wait()/waitpid(). The parent does that in a SIGCHLD handler.
 *    SA_RESTART makes the accept() the signal interrupted start again instead
 *    of failing with EINTR.
 *  - write() may write fewer bytes than asked (a "partial write"): loop until
 *    all of them are sent.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char* what) {
  perror(what);
  exit(1);
}

static unsigned short parse_port(const char* s) {
  char* end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < 1 || v > 65535) {
    fprintf(stderr, "invalid port: %s\n", s);
    exit(1);
  }
  return (unsigned short)v;
}

/* SIGCHLD handler: reap every child that has exited. Several children may
 * exit while one signal is pending (signals do not queue), so loop until
 * waitpid() finds none left. waitpid() may change errno, which the code the
 * signal interrupted may be about to look at: save and restore it. */
static void reap_children(int sig) {
  (void)sig;
  int saved_errno = errno;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  errno = saved_errno;
}

/* Writes all LEN bytes of BUF to FD, looping over partial writes and writes
 * interrupted by a signal. Returns 0, or -1 with errno set. */
static int write_all(int fd, const char* buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* The child's whole job: echo until the client closes its side (read()
 * returns 0, end of file). Returns the number of bytes echoed, or -1. */
static long long echo(int fd) {
  char buf[16384];
  long long total = 0;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("read");
      return -1;
    }
    if (n == 0) return total; /* the client sent FIN: nothing more will come */
    if (write_all(fd, buf, (size_t)n) < 0) {
      perror("write");
      return -1;
    }
    total += n;
  }
}

int main(int argc, char* argv[]) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: %s PORT [ADDR]\n", argv[0]);
    return 1;
  }
  unsigned short port = parse_port(argv[1]);
  const char* listen_addr = argc == 3 ? argv[2] : "0.0.0.0";

  struct sockaddr_in addr;
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, listen_addr, &addr.sin_addr) != 1) {
    fprintf(stderr, "invalid IPv4 address: %s\n", listen_addr);
    return 1;
  }

  /* A client that goes away while we write would otherwise kill the child
   * with SIGPIPE; ignored, write() fails with EPIPE and the child says so. */
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = SIG_IGN;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGPIPE, &sa, NULL) < 0) die("sigaction SIGPIPE");

  /* Reap children as they exit, so none is left a zombie. SA_NOCLDSTOP: no
   * signal when a child is merely stopped. */
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = reap_children;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  if (sigaction(SIGCHLD, &sa, NULL) < 0) die("sigaction SIGCHLD");

  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  if (lfd < 0) die("socket");

  int one = 1;
  if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) die("setsockopt");
  if (bind(lfd, (struct sockaddr*)&addr, sizeof(addr)) < 0) die("bind");
  if (listen(lfd, 128) < 0) die("listen");

  printf("listening on %s:%u\n", listen_addr, (unsigned)port);
  fflush(stdout);

  for (;;) {
    struct sockaddr_in peer;
    socklen_t peer_len = sizeof(peer);
    int cfd = accept(lfd, (struct sockaddr*)&peer, &peer_len);
    if (cfd < 0) {
      /* EINTR: a signal without SA_RESTART; ECONNABORTED: the client gave
       * up before we accepted it. Neither is a reason to stop serving. */
      if (errno == EINTR || errno == ECONNABORTED) continue;
      die("accept");
    }

    char ip[INET_ADDRSTRLEN];
    if (inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof(ip)) == NULL) die("inet_ntop");
    unsigned peer_port = ntohs(peer.sin_port);

    /* Anything still in stdout's buffer would be written twice, once by
     * each process: empty it before fork(). */
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
      perror("fork");
      close(cfd); /* cannot serve this one; keep serving the others */
      continue;
    }

    if (pid == 0) {
      /* The child: it serves this connection only and never accepts. */
      close(lfd);
      long long echoed = echo(cfd);
      if (close(cfd) < 0) perror("close");
      if (echoed >= 0) {
        printf("child %d: echoed %lld bytes to %s:%u\n", (int)getpid(), echoed, ip, peer_port);
        fflush(stdout);
      }
      /* _exit(), not exit(): the child must not run the parent's atexit()
       * handlers or flush stdio buffers it inherited. */
      _exit(echoed >= 0 ? 0 : 1);
    }

    /* The parent: the child has the connection now. Closing our copy only
     * drops this process's reference; the connection stays open. */
    if (close(cfd) < 0) die("close");
    printf("connection from %s:%u served by child %d\n", ip, peer_port, (int)pid);
    fflush(stdout);
  }
}
