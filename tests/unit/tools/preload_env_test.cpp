// What `veer run` puts into a program's environment so libveer.so loads.
#include "tools/preload_env.h"

#include <gtest/gtest.h>

namespace veer::tools {
namespace {

TEST(LibraryPath, SitsInLibNextToTheExecutablesBin) {
  EXPECT_EQ(library_path("", "/opt/veer/bin/veer", "/home/u"), "/opt/veer/lib/libveer.so");
  EXPECT_EQ(library_path("", "/work/build/bin/veer", "/"), "/work/build/lib/libveer.so");
}

TEST(LibraryPath, VeerLibraryOverridesAndIsMadeAbsolute) {
  EXPECT_EQ(library_path("/usr/lib64/libveer.so", "/opt/veer/bin/veer", "/home/u"),
            "/usr/lib64/libveer.so");
  // A child that starts in another directory must still find it.
  EXPECT_EQ(library_path("build/lib/libveer.so", "/opt/veer/bin/veer", "/home/u"),
            "/home/u/build/lib/libveer.so");
  EXPECT_EQ(library_path("../x/libveer.so", "/opt/veer/bin/veer", "/home/u"), "/home/x/libveer.so");
}

TEST(LdPreload, OursAloneInAPlainBuild) {
  EXPECT_EQ(compose_ld_preload("", "/l/libveer.so", ""), "/l/libveer.so");
}

TEST(LdPreload, ExistingEntriesComeAfterOurs) {
  EXPECT_EQ(compose_ld_preload("", "/l/libveer.so", "/u/a.so:/u/b.so"),
            "/l/libveer.so:/u/a.so:/u/b.so");
}

TEST(LdPreload, SanitizerRuntimesComeFirst) {
  EXPECT_EQ(compose_ld_preload("/g/libasan.so.8:/g/libubsan.so.1", "/l/libveer.so", "/u/a.so"),
            "/g/libasan.so.8:/g/libubsan.so.1:/l/libveer.so:/u/a.so");
}

TEST(LdPreload, TsanRuntimeRightAfterOurs) {
  EXPECT_EQ(
      compose_ld_preload("/g/libtsan.so.2", "/l/libveer.so", "/u/a.so", RuntimeOrder::AfterLibrary),
      "/l/libveer.so:/g/libtsan.so.2:/u/a.so");
}

TEST(AsanOptions, AddedWhenUnset) {
  EXPECT_EQ(merge_asan_options(""), "detect_leaks=0:verify_asan_link_order=0");
}

TEST(AsanOptions, UsersOptionsKeptAndTheirChoicesWin) {
  EXPECT_EQ(merge_asan_options("abort_on_error=1"),
            "abort_on_error=1:detect_leaks=0:verify_asan_link_order=0");
  EXPECT_EQ(merge_asan_options("detect_leaks=1"), "detect_leaks=1:verify_asan_link_order=0");
  // The sanitizer parser also splits on commas and blanks.
  EXPECT_EQ(merge_asan_options("verify_asan_link_order=1,detect_leaks=1"),
            "verify_asan_link_order=1,detect_leaks=1");
  EXPECT_EQ(merge_asan_options("halt_on_error=0:"),
            "halt_on_error=0:detect_leaks=0:verify_asan_link_order=0");
}

TEST(AsanOptions, APrefixOfAFlagNameIsNotThatFlag) {
  EXPECT_EQ(merge_asan_options("detect_leaks_x=1"),
            "detect_leaks_x=1:detect_leaks=0:verify_asan_link_order=0");
}

TEST(TsanOptions, DieAfterForkOffUnlessTheUserChose) {
  EXPECT_EQ(merge_tsan_options(""), "die_after_fork=0");
  EXPECT_EQ(merge_tsan_options("history_size=7"), "history_size=7:die_after_fork=0");
  EXPECT_EQ(merge_tsan_options("die_after_fork=1"), "die_after_fork=1");
}

}  // namespace
}  // namespace veer::tools
