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

// The new LD_PRELOAD: the sanitizer runtimes first (a sanitized libveer.so
// needs them loaded before it in a program not built with them), then
// libveer.so, then whatever the caller already preloads, so our interposers
// come before theirs.
std::string compose_ld_preload(std::string_view sanitizer_runtimes, std::string_view library,
                               std::string_view existing);

// `existing` ASAN_OPTIONS with detect_leaks=0 and verify_asan_link_order=0
// appended unless the user already chose a value for them. LeakSanitizer would
// report the host program's own leaks and change its exit status; the link
// order check refuses a runtime that arrives by LD_PRELOAD.
std::string merge_asan_options(std::string_view existing);

}  // namespace veer::tools
