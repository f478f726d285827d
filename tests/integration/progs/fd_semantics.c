/* fd_semantics: the fd- and process-level behaviour of a TCP socket that
 * real programs rely on, checked against an echo server: dup/dup2/dup3 and
 * F_DUPFD_CLOEXEC share one socket (and its O_NONBLOCK) until the last fd
 * closes; FIONBIO, FIONREAD and SIOCOUTQ; blocking reads interrupted by a
 * signal (EINTR without SA_RESTART, transparently resumed with it);
 * SO_RCVTIMEO; sendfile; splice between a pipe and the socket (and its
 * errors: offsets, a regular file, EAGAIN); tee/vmsplice refusing a socket;
 * recvmmsg/sendmmsg; readv/writev; close_range.
 *
 * usage: fd_semantics HOST ECHO_PORT
 * Prints one line per check; exits 0 when all pass. Plain libc: run it under
 * veer (LD_PRELOAD) or without it to see the kernel do the same. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char* what) {
  printf("%s: %s\n", ok ? "ok" : "FAIL", what);
  fflush(stdout);
  if (!ok) ++failures;
}

static int connect_to(const char* host, int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, host, &a.sin_addr);
  if (fd < 0 || connect(fd, (struct sockaddr*)&a, sizeof a) < 0) {
    perror("connect");
    exit(2);
  }
  return fd;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* Reads exactly n bytes (the echo of what was sent). */
static int read_full(int fd, char* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, buf + got, n - got);
    if (r <= 0) return -1;
    got += (size_t)r;
  }
  return 0;
}

static int echo_ok(int fd, const char* msg) {
  char buf[64] = {0};
  size_t n = strlen(msg);
  if (write(fd, msg, n) != (ssize_t)n) return 0;
  return read_full(fd, buf, n) == 0 && memcmp(buf, msg, n) == 0;
}

static volatile sig_atomic_t alarms;
static void on_alarm(int sig) {
  (void)sig;
  ++alarms;
}

static void arm_alarm(int ms, int restart) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sa.sa_flags = restart ? SA_RESTART : 0;
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval it = {.it_value = {ms / 1000, (ms % 1000) * 1000}};
  setitimer(ITIMER_REAL, &it, NULL);
}

struct delayed_write {
  int fd;
  int delay_ms;
  const char* data;
  size_t len;
};

static void* write_later(void* arg) {
  struct delayed_write* d = arg;
  usleep((useconds_t)d->delay_ms * 1000);
  size_t off = 0;
  while (off < d->len) {
    ssize_t w = write(d->fd, d->data + off, d->len - off);
    if (w <= 0) break;
    off += (size_t)w;
  }
  return NULL;
}

struct file_send {
  int sock;
  int file;
  size_t len;
  ssize_t sent;
};

static void* send_file(void* arg) {
  struct file_send* f = arg;
  off_t off = 0;
  size_t total = 0;
  while (total < f->len) {
    ssize_t r = sendfile(f->sock, f->file, &off, f->len - total);
    if (r <= 0) break;
    total += (size_t)r;
  }
  f->sent = (ssize_t)total;
  return NULL;
}

struct pipe_send {
  int sock;
  const char* data;
  size_t len;
  ssize_t sent;
};

/* Writes the data into a pipe 16 KiB at a time and splices each piece from
 * the pipe into the socket. */
static void* splice_out(void* arg) {
  struct pipe_send* ps = arg;
  int p[2];
  size_t total = 0;
  if (pipe(p) < 0) return NULL;
  while (total < ps->len) {
    size_t k = ps->len - total < 16384 ? ps->len - total : 16384;
    if (write(p[1], ps->data + total, k) != (ssize_t)k) break;
    size_t left = k;
    while (left > 0) {
      ssize_t r = splice(p[0], NULL, ps->sock, NULL, left, 0);
      if (r <= 0) goto out;
      left -= (size_t)r;
      total += (size_t)r;
    }
  }
out:
  close(p[0]);
  close(p[1]);
  ps->sent = (ssize_t)total;
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s HOST ECHO_PORT\n", argv[0]);
    return 2;
  }
  const char* host = argv[1];
  int port = atoi(argv[2]);

  /* dup family: one socket behind every copy. */
  int s = connect_to(host, port);
  int d = dup(s);
  check(d >= 0 && d != s, "dup gives a new fd");
  close(s);
  check(echo_ok(d, "after-dup"), "the dup still talks after the original is closed");
  int d2 = dup2(d, 100);
  check(d2 == 100 && echo_ok(100, "dup2"), "dup2 onto a chosen number talks");
  check(dup2(d, d) == d, "dup2 onto itself returns the fd");
  check(dup3(d, d, 0) == -1 && errno == EINVAL, "dup3 onto itself: EINVAL");
  int d3 = fcntl(d, F_DUPFD_CLOEXEC, 200);
  check(d3 >= 200 && (fcntl(d3, F_GETFD) & FD_CLOEXEC) && !(fcntl(d, F_GETFD) & FD_CLOEXEC),
        "F_DUPFD_CLOEXEC: a number >= 200 with FD_CLOEXEC on it alone");
  fcntl(d, F_SETFL, fcntl(d, F_GETFL) | O_NONBLOCK);
  check((fcntl(d3, F_GETFL) & O_NONBLOCK) != 0, "O_NONBLOCK is shared by the copies");
  char c;
  check(read(d3, &c, 1) == -1 && errno == EAGAIN, "a nonblocking read with nothing: EAGAIN");
  int off = 0;
  ioctl(d, FIONBIO, &off);
  check(!(fcntl(d3, F_GETFL) & O_NONBLOCK), "FIONBIO turns it off for all copies");

  /* dup2 over a live socket closes that socket (the copies keep theirs). */
  int other = connect_to(host, port);
  check(dup2(d, other) == other && echo_ok(other, "replaced"),
        "dup2 onto another socket's fd: now the first socket");
  close(d3);
  close(100);
  close(other);

  /* FIONREAD and SIOCOUTQ. */
  check(write(d, "hello", 5) == 5, "write 5 bytes");
  struct pollfd p = {d, POLLIN, 0};
  poll(&p, 1, 5000);
  usleep(100 * 1000); /* all 5 echoed bytes in */
  int avail = -1;
  check(ioctl(d, FIONREAD, &avail) == 0 && avail == 5, "FIONREAD counts 5 bytes");
  int outq = -1;
  check(ioctl(d, SIOCOUTQ, &outq) == 0 && outq == 0, "SIOCOUTQ is 0 once acknowledged");
  char buf[64];
  read_full(d, buf, 5);

  /* readv/writev and recvmmsg/sendmmsg. */
  struct iovec wv[2] = {{"ab", 2}, {"cd", 2}};
  check(writev(d, wv, 2) == 4, "writev of 2+2 bytes");
  char r1[3] = {0}, r2[2] = {0};
  struct iovec rv[2] = {{r1, 2}, {r2, 2}};
  usleep(100 * 1000);
  check(readv(d, rv, 2) == 4 && !memcmp(r1, "ab", 2) && !memcmp(r2, "cd", 2),
        "readv scatters the echo");
  struct iovec mv[2] = {{"m1", 2}, {"m2", 2}};
  struct mmsghdr mm[2];
  memset(mm, 0, sizeof mm);
  mm[0].msg_hdr.msg_iov = &mv[0];
  mm[0].msg_hdr.msg_iovlen = 1;
  mm[1].msg_hdr.msg_iov = &mv[1];
  mm[1].msg_hdr.msg_iovlen = 1;
  check(sendmmsg(d, mm, 2, 0) == 2, "sendmmsg sends 2 messages");
  usleep(100 * 1000);
  char in[8] = {0};
  struct iovec iv = {in, sizeof in};
  struct mmsghdr rm;
  memset(&rm, 0, sizeof rm);
  rm.msg_hdr.msg_iov = &iv;
  rm.msg_hdr.msg_iovlen = 1;
  check(recvmmsg(d, &rm, 1, 0, NULL) == 1 && rm.msg_len == 4 && !memcmp(in, "m1m2", 4),
        "recvmmsg gets the 4 echoed bytes");

  /* A signal without SA_RESTART interrupts a blocking read... */
  alarms = 0;
  arm_alarm(200, 0);
  double t0 = now_ms();
  ssize_t r = read(d, buf, 1);
  check(r == -1 && errno == EINTR && alarms == 1, "SIGALRM without SA_RESTART: read gives EINTR");
  printf("  (after %.0f ms)\n", now_ms() - t0);
  /* ...and with SA_RESTART the read goes on until data comes. */
  alarms = 0;
  struct delayed_write dw = {d, 500, "r", 1};
  pthread_t th;
  pthread_create(&th, NULL, write_later, &dw);
  arm_alarm(200, 1);
  r = read(d, buf, 1);
  check(r == 1 && buf[0] == 'r' && alarms == 1, "SIGALRM with SA_RESTART: the read resumes");
  pthread_join(th, NULL);

  /* SO_RCVTIMEO: EAGAIN after the timeout. */
  struct timeval tv = {0, 300 * 1000};
  check(setsockopt(d, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0, "SO_RCVTIMEO 300 ms");
  struct timeval back;
  socklen_t len = sizeof back;
  getsockopt(d, SOL_SOCKET, SO_RCVTIMEO, &back, &len);
  check(back.tv_sec == 0 && back.tv_usec == 300000, "getsockopt reads it back");
  t0 = now_ms();
  r = read(d, buf, 1);
  double waited = now_ms() - t0;
  check(r == -1 && errno == EAGAIN && waited >= 250 && waited < 2000,
        "a read times out with EAGAIN after about 300 ms");
  printf("  (after %.0f ms)\n", waited);
  tv.tv_usec = 0;
  setsockopt(d, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  /* sendfile: 1 MiB from a file, echoed back intact. */
  char path[] = "/tmp/fd_semantics.XXXXXX";
  int file = mkstemp(path);
  unlink(path);
  size_t flen = 1 << 20;
  char* data = malloc(flen);
  char* echo = malloc(flen);
  for (size_t i = 0; i < flen; ++i) data[i] = (char)(i * 7 + (i >> 10));
  if (write(file, data, flen) != (ssize_t)flen) perror("write file");
  struct file_send fs = {d, file, flen, 0};
  pthread_create(&th, NULL, send_file, &fs);
  int got = read_full(d, echo, flen);
  pthread_join(th, NULL);
  check(fs.sent == (ssize_t)flen && got == 0 && memcmp(data, echo, flen) == 0,
        "sendfile of 1 MiB comes back byte-identical");
  check(lseek(file, 0, SEEK_CUR) == (off_t)flen, "sendfile with an offset leaves the position");
  close(file);
  free(data);
  free(echo);

  /* splice: pipe -> socket, the echo socket -> pipe, read from the pipe. An
   * alarm turns a wrongly blocking splice into a failed check. */
  arm_alarm(10000, 0);
  int in_pipe[2], out_pipe[2];
  check(pipe(in_pipe) == 0 && pipe(out_pipe) == 0, "two pipes");
  const char* sm = "spliced-message";
  size_t smlen = strlen(sm);
  check(write(in_pipe[1], sm, smlen) == (ssize_t)smlen, "a message into the first pipe");
  check(splice(in_pipe[0], NULL, d, NULL, 4096, 0) == (ssize_t)smlen,
        "splice pipe -> socket moves what the pipe holds");
  size_t sgot = 0;
  while (sgot < smlen) {
    ssize_t k = splice(d, NULL, out_pipe[1], NULL, smlen - sgot, 0);
    if (k <= 0) break;
    sgot += (size_t)k;
  }
  char sback[32] = {0};
  check(sgot == smlen && read_full(out_pipe[0], sback, smlen) == 0 && !memcmp(sback, sm, smlen),
        "splice socket -> pipe brings the echo: same bytes");
  loff_t soff = 0;
  check(splice(d, NULL, out_pipe[1], &soff, 16, 0) == -1 && errno == ESPIPE,
        "splice socket -> pipe with an offset on the pipe: ESPIPE");
  check(splice(in_pipe[0], NULL, d, &soff, 16, 0) == -1 && errno == EINVAL,
        "splice pipe -> socket with an offset on the socket: EINVAL");
  check(splice(in_pipe[0], NULL, d, NULL, 16, SPLICE_F_NONBLOCK) == -1 && errno == EAGAIN,
        "splice from an empty pipe with SPLICE_F_NONBLOCK: EAGAIN");
  char fpath[] = "/tmp/fd_semantics.XXXXXX";
  int sfile = mkstemp(fpath);
  unlink(fpath);
  check(write(sfile, "abc", 3) == 3 && lseek(sfile, 0, SEEK_SET) == 0, "a small regular file");
  check(splice(sfile, NULL, d, NULL, 3, 0) == -1 && errno == EINVAL,
        "splice file -> socket (no pipe): EINVAL");
  check(splice(d, NULL, sfile, NULL, 3, 0) == -1 && errno == EINVAL,
        "splice socket -> file (no pipe): EINVAL");
  close(sfile);
  check(tee(in_pipe[0], d, 16, SPLICE_F_NONBLOCK) == -1 && errno == EINVAL,
        "tee into a socket: EINVAL");
  struct iovec vv = {"v", 1};
  check(vmsplice(d, &vv, 1, 0) == -1 && errno == EBADF, "vmsplice onto a socket: EBADF");
  fcntl(d, F_SETFL, fcntl(d, F_GETFL) | O_NONBLOCK);
  check(splice(d, NULL, out_pipe[1], NULL, 16, SPLICE_F_NONBLOCK) == -1 && errno == EAGAIN,
        "splice from a nonblocking socket with nothing to read: EAGAIN");
  fcntl(d, F_SETFL, fcntl(d, F_GETFL) & ~O_NONBLOCK);
  /* A full pipe: the socket keeps its bytes (none lost) until there is room. */
  int small[2];
  check(pipe(small) == 0 && fcntl(small[1], F_SETPIPE_SZ, 4096) == 4096, "a one-page pipe");
  static char page[4096];
  check(write(small[1], page, sizeof page) == (ssize_t)sizeof page, "filled");
  check(write(d, "kept!", 5) == 5, "5 bytes to the echo");
  int sq = 0;
  for (int i = 0; i < 500 && sq < 5; ++i) {
    usleep(10 * 1000);
    ioctl(d, FIONREAD, &sq);
  }
  check(splice(d, NULL, small[1], NULL, 5, SPLICE_F_NONBLOCK) == -1 && errno == EAGAIN,
        "splice socket -> full pipe with SPLICE_F_NONBLOCK: EAGAIN");
  check(ioctl(d, FIONREAD, &sq) == 0 && sq == 5, "the socket keeps its 5 bytes");
  check(read_full(small[0], page, sizeof page) == 0, "the pipe drained");
  char kept[8] = {0};
  check(splice(d, NULL, small[1], NULL, 64, SPLICE_F_NONBLOCK) == 5 &&
            read_full(small[0], kept, 5) == 0 && !memcmp(kept, "kept!", 5),
        "then the 5 bytes move");
  close(small[0]);
  close(small[1]);
  /* 256 KiB out through one pipe and back through another. */
  size_t blen = 256 * 1024;
  char* bdata = malloc(blen);
  char* becho = malloc(blen);
  for (size_t i = 0; i < blen; ++i) bdata[i] = (char)(i * 13 + (i >> 9));
  struct pipe_send ps = {d, bdata, blen, 0};
  pthread_create(&th, NULL, splice_out, &ps);
  size_t bgot = 0;
  while (bgot < blen) {
    ssize_t k = splice(d, NULL, out_pipe[1], NULL, blen - bgot, 0);
    if (k <= 0 || read_full(out_pipe[0], becho + bgot, (size_t)k) < 0) break;
    bgot += (size_t)k;
  }
  pthread_join(th, NULL);
  check(ps.sent == (ssize_t)blen && bgot == blen && !memcmp(bdata, becho, blen),
        "256 KiB spliced pipe -> socket and back socket -> pipe: byte-identical");
  free(bdata);
  free(becho);
  close(in_pipe[1]);
  check(splice(in_pipe[0], NULL, d, NULL, 16, 0) == 0,
        "splice from an empty pipe without writers: 0 (end of file)");
  close(in_pipe[0]);
  close(out_pipe[0]);
  close(out_pipe[1]);
  arm_alarm(0, 0);

  /* Options real programs set and read back, with Linux's normalisation. */
  struct {
    int level, name, set, want;
    const char* what;
  } opts[] = {
      {SOL_SOCKET, SO_REUSEPORT, 5, 1, "SO_REUSEPORT reads back as 1"},
      {SOL_SOCKET, SO_RCVLOWAT, 0, 1, "SO_RCVLOWAT 0 reads back as 1"},
      {IPPROTO_TCP, TCP_DEFER_ACCEPT, 5, 7,
       "TCP_DEFER_ACCEPT 5 s reads back as 7 (whole SYN-ACK rounds)"},
      {IPPROTO_IP, IP_TOS, 0x13, 0x10, "IP_TOS 0x13 reads back without the ECN bits"},
  };
  for (size_t i = 0; i < sizeof opts / sizeof opts[0]; ++i) {
    int v = -1;
    socklen_t vlen = sizeof v;
    setsockopt(d, opts[i].level, opts[i].name, &opts[i].set, sizeof(int));
    getsockopt(d, opts[i].level, opts[i].name, &v, &vlen);
    check(v == opts[i].want, opts[i].what);
    if (v != opts[i].want) printf("  (got %d)\n", v);
  }

  /* O_NONBLOCK set with FIONBIO before bind() (nginx does it to its
   * listeners) stays on once the socket is listening: accept() with nothing
   * to accept says EAGAIN at once. An alarm ends a wrongly blocking accept. */
  int l = socket(AF_INET, SOCK_STREAM, 0);
  int on = 1;
  ioctl(l, FIONBIO, &on);
  struct sockaddr_in any = {.sin_family = AF_INET};
  check(bind(l, (struct sockaddr*)&any, sizeof any) == 0 && listen(l, 8) == 0,
        "a listener with FIONBIO set before bind");
  arm_alarm(2000, 0);
  errno = 0;
  check(accept(l, NULL, NULL) == -1 && errno == EAGAIN,
        "its accept with no connection: EAGAIN, not a wait");
  arm_alarm(0, 0);
  close(l);

  /* A vfork() child that execs runs in this process's memory until then:
   * the socket is untouched by it. */
  pid_t child = vfork();
  if (child == 0) {
    execl("/bin/true", "true", (char*)NULL);
    _exit(127);
  }
  int status = -1;
  check(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
            WEXITSTATUS(status) == 0,
        "a vfork() child execs /bin/true");
  check(echo_ok(d, "after-vfork"), "and the socket still talks");

  /* close_range closes sockets too. */
  int last = connect_to(host, port);
  check(close_range((unsigned)last, (unsigned)last, 0) == 0, "close_range on a socket");
  check(fcntl(last, F_GETFD) == -1 && errno == EBADF, "and the fd is gone");
  check(close(d) == 0, "close the last copy");
  check(close(d) == -1 && errno == EBADF, "closing it again: EBADF");
  printf("%s\n", failures ? "SOME CHECKS FAILED" : "all checks passed");
  return failures ? 1 : 0;
}
