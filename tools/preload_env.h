// What `veer run` adds to a program's environment so that libveer.so loads
// into it: where the library is, LD_PRELOAD, and the sanitizer settings a
// sanitized build needs. Pure string work, so it can be tested without
// running anything.
#pragma once

#include <string>
#include <string_view>

namespace veer::tools {

// Overrides where libveer.so is looked for, for installs whose layout is not
// bin/ next to lib/.
inline constexpr const char* kLibraryEnv = "VEER_LIBRARY";

// libveer.so's path: `override_path` (VEER_LIBRARY) made absolute against
// `cwd` when set, else <directory of exe_path>/../lib/libveer.so, the layout
// of both the build tree and an install.
std::string library_path(std::string_view override_path, std::string_view exe_path,
                         std::string_view cwd);

// The new LD_PRELOAD: the sanitizer runtimes (a sanitized libveer.so needs
// them preloaded in a program not built with them), libveer.so, then
// whatever the caller already preloads, so our interposers come before
// theirs. ASan's runtime must come first. ThreadSanitizer's goes right after
// libveer.so: its poll/epoll_wait interceptors ignore every interceptor
// called inside them (a "blocking call"), so were they first, veer's poll
// taking its lock inside them would hide that lock from TSan.
enum class RuntimeOrder { First, AfterLibrary };
std::string compose_ld_preload(std::string_view sanitizer_runtimes, std::string_view library,
                               std::string_view existing, RuntimeOrder order = RuntimeOrder::First);

// `existing` ASAN_OPTIONS with detect_leaks=0 and verify_asan_link_order=0
// appended unless the user already chose a value for them. LeakSanitizer would
// report the host program's own leaks and change its exit status; the link
// order check refuses a runtime that arrives by LD_PRELOAD.
std::string merge_asan_options(std::string_view existing);

// `existing` TSAN_OPTIONS with die_after_fork=0 unless the user chose a
// value: a child forked from a veer process starts a thread of its own (its
// relay, preload/engine_fork.cpp), which TSan otherwise refuses after a
// multi-threaded fork.
std::string merge_tsan_options(std::string_view existing);

}  // namespace veer::tools
