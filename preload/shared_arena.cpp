#include "preload/shared_arena.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/interprocess/indexes/iset_index.hpp>
#include <boost/interprocess/managed_external_buffer.hpp>
#include <boost/interprocess/mem_algo/rbtree_best_fit.hpp>
#include <boost/interprocess/sync/mutex_family.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <unordered_map>

#include "preload/log.h"

namespace veer::preload {
namespace {

namespace bip = boost::interprocess;
// The engine lock guards every allocation, so the allocator needs none of
// its own. (No named objects are made; the index type is the default.)
using Managed =
    bip::basic_managed_external_buffer<char, bip::rbtree_best_fit<bip::null_mutex_family>,
                                       bip::iset_index>;
using Manager = Managed::segment_manager;

constexpr size_t kHeaderBytes = 4096;  // the SharedArena object and the Managed handle

}  // namespace

struct SharedArena::Holders {
  explicit Holders(std::pmr::memory_resource* m) : map(m) {}
  std::pmr::unordered_map<uint64_t, uint64_t> map;
};

SharedArena* SharedArena::create(size_t bytes, std::string* error) {
  void* base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) {
    *error = std::string("mmap of ") + std::to_string(bytes >> 20) +
             " MiB of shared memory failed: " + std::strerror(errno) + " (lower shared_arena_mb?)";
    return nullptr;
  }
  static_assert(sizeof(SharedArena) + sizeof(Managed) <= kHeaderBytes);
  auto* arena = new (base) SharedArena();
  arena->bytes_ = bytes;
  auto* managed = new (static_cast<char*>(base) + sizeof(SharedArena))
      Managed(bip::create_only, static_cast<char*>(base) + kHeaderBytes, bytes - kHeaderBytes);
  arena->manager_ = managed->get_segment_manager();

  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  // A process killed while it holds the lock must not wedge the others.
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  int r = pthread_mutex_init(&arena->mutex_, &attr);
  pthread_mutexattr_destroy(&attr);
  if (r != 0) {
    *error = std::string("cannot make the process-shared engine lock: ") + std::strerror(r);
    munmap(base, bytes);
    return nullptr;
  }
  std::pmr::polymorphic_allocator<Holders> alloc(arena);
  arena->holders_ = alloc.new_object<Holders>(arena);
  return arena;
}

void SharedArena::unmap(SharedArena* arena) {
  if (arena) munmap(arena, arena->bytes_);
}

void* SharedArena::do_allocate(size_t bytes, size_t align) {
  auto* m = static_cast<Manager*>(manager_);
  void* p = align <= alignof(std::max_align_t) ? m->allocate(bytes, std::nothrow)
                                               : m->allocate_aligned(bytes, align, std::nothrow);
  if (!p) {
    log_once("arena-full",
             "the stack's shared memory is exhausted (%zu of %zu bytes in use, %zu more asked): "
             "raise shared_arena_mb",
             bytes_in_use(), bytes_, bytes);
    throw std::bad_alloc();
  }
  return p;
}

void SharedArena::do_deallocate(void* p, size_t, size_t) {
  static_cast<Manager*>(manager_)->deallocate(p);
}

size_t SharedArena::bytes_in_use() const {
  auto* m = static_cast<Manager*>(manager_);
  return m->get_size() - m->get_free_memory();
}

uint64_t SharedArena::holders(uint64_t socket) const {
  auto it = holders_->map.find(socket);
  return it == holders_->map.end() ? 0 : it->second;
}

void SharedArena::hold(uint64_t socket, int slot) {
  holders_->map[socket] |= uint64_t(1) << slot;
}

bool SharedArena::release(uint64_t socket, int slot) {
  auto it = holders_->map.find(socket);
  if (it == holders_->map.end()) return true;
  it->second &= ~(uint64_t(1) << slot);
  if (it->second) return false;
  holders_->map.erase(it);
  return true;
}

void SharedArena::copy_holds(int parent, int child) {
  for (auto& [socket, mask] : holders_->map)
    if (mask & (uint64_t(1) << parent)) mask |= uint64_t(1) << child;
}

std::vector<uint64_t> SharedArena::release_all(int slot) {
  std::vector<uint64_t> last;
  for (auto it = holders_->map.begin(); it != holders_->map.end();) {
    it->second &= ~(uint64_t(1) << slot);
    if (it->second) {
      ++it;
      continue;
    }
    last.push_back(it->first);
    it = holders_->map.erase(it);
  }
  return last;
}

void futex_wait_shared(std::atomic<uint32_t>* word, uint32_t expected, int64_t timeout_ns) {
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
  timespec ts{static_cast<time_t>(timeout_ns / 1000000000),
              static_cast<long>(timeout_ns % 1000000000)};
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT, expected,
          timeout_ns < 0 ? nullptr : &ts, nullptr, 0);
}

void futex_wake_shared(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE, INT32_MAX, nullptr, nullptr, 0);
}

namespace {

// Reads at most size-1 bytes of a /proc file into buf with plain syscalls:
// the relay thread calls this in a process forked from a multi-threaded one,
// where (under a sanitizer's allocator) malloc may never return.
ssize_t read_proc(const char* path, char* buf, size_t size) {
  int fd = static_cast<int>(syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC));
  if (fd < 0) return -errno;
  ssize_t n = syscall(SYS_read, fd, buf, size - 1);
  syscall(SYS_close, fd);
  if (n < 0) return -errno;
  buf[n] = 0;
  return n;
}

}  // namespace

uint64_t process_start_time(pid_t pid, bool* zombie) {
  *zombie = false;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  char buf[1024];
  if (read_proc(path, buf, sizeof buf) <= 0) return 0;
  // pid (comm) state ppid ... : comm may hold spaces and parentheses, so
  // parse from the last ')'. starttime is field 22.
  char* p = std::strrchr(buf, ')');
  if (!p) return 0;
  char state = 0;
  unsigned long long start = 0;
  int field = 2;
  char* save = nullptr;
  for (char* tok = strtok_r(p + 1, " ", &save); tok; tok = strtok_r(nullptr, " ", &save)) {
    ++field;
    if (field == 3) state = tok[0];
    if (field == 22) {
      start = std::strtoull(tok, nullptr, 10);
      break;
    }
  }
  *zombie = state == 'Z' || state == 'X';
  return start;
}

bool process_maps(pid_t pid, const void* addr) {
  char path[64], want[32];
  std::snprintf(path, sizeof path, "/proc/%d/maps", static_cast<int>(pid));
  int n = std::snprintf(want, sizeof want, "%lx-", reinterpret_cast<unsigned long>(addr));
  int fd = static_cast<int>(syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC));
  if (fd < 0) return errno != ENOENT;
  // Line by line through a fixed buffer: does a line start with `want`?
  char buf[4096];
  size_t have = 0;
  bool found = false, at_line_start = true;
  for (;;) {
    ssize_t r = syscall(SYS_read, fd, buf + have, sizeof buf - have);
    if (r <= 0) break;
    have += static_cast<size_t>(r);
    size_t pos = 0;
    while (pos < have && !found) {
      char* nl = static_cast<char*>(std::memchr(buf + pos, '\n', have - pos));
      if (!nl) break;
      size_t len = static_cast<size_t>(nl - (buf + pos));
      if (at_line_start && len >= static_cast<size_t>(n) && std::memcmp(buf + pos, want, n) == 0)
        found = true;
      at_line_start = true;
      pos += len + 1;
    }
    if (found) break;
    if (pos == 0 && have == sizeof buf) {
      // A line longer than the buffer: check its start, then skip it.
      if (at_line_start && std::memcmp(buf, want, n) == 0) found = true;
      at_line_start = false;
      have = 0;
      continue;
    }
    std::memmove(buf, buf + pos, have - pos);
    have -= pos;
  }
  syscall(SYS_close, fd);
  return found;
}

}  // namespace veer::preload
