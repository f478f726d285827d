/* write_all: writes all of buf, resuming after short writes and EINTR; 0, or
 * -1 with errno. Shared by the integration test programs. */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <unistd.h>

static inline int write_all(int fd, const char* buf, size_t len) {
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
