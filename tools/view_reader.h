// Reading the views the engines publish in /dev/shm (preload/view_format.h):
// shared by `veer ss` and `veer netstat`.
#pragma once

#include <string>
#include <vector>

#include "preload/view_format.h"

namespace veer::tools {

struct View {
  preload::ViewHeader header{};
  std::vector<preload::ViewSocket> sockets;
};

enum class ViewRead {
  Ok,
  Unreadable,    // gone, not ours to read, or not a view at all
  OtherVersion,  // a view of another veer version: its layout is unknown
  KeptChanging,  // the engine rewrote it during every attempt
};

// Copies one view under its sequence counter.
ViewRead read_view(const std::string& path, View& out);

// Whether process `pid` exists and is not a zombie (EPERM: it exists, it
// is another user's).
bool process_alive(int pid);

// The views of every live process running veer that this user may read,
// by pid. Views (and control sockets) of processes that are gone are
// removed; a view of another veer version is skipped with a line in
// `*notes`. `only_pid` > 0 reads that process's view only.
std::vector<View> collect_views(std::vector<std::string>* notes, int only_pid = 0);

// "123" from "veer.123"; -1 for any other name (veer.123.ctl, veer.x).
int view_pid(std::string_view file_name);

int64_t monotonic_ns();

}  // namespace veer::tools
