// TCP_INFO for a program: the stack's TcpInfo in the kernel's struct
// tcp_info layout (<linux/tcp.h>, larger than glibc's), truncated to the
// caller's length as tcp_get_info()'s copy is.
#pragma once

#include <sys/socket.h>

#include "core/tcp/tcp_info.h"

namespace veer::preload {

// Writes min(len, sizeof(struct tcp_info)) bytes to `out`; returns that length.
socklen_t fill_tcp_info(const core::TcpInfo& info, void* out, socklen_t len);

}  // namespace veer::preload
