// The shared-memory arena that lets processes share sockets, as they do on
// Linux (../shared/DESIGN.md, "Processes share sockets").
//
// One MAP_SHARED anonymous mapping, made when the engine is created, so that
// every process forked afterwards sees it at the same address: pointers into
// it stay valid in the child. It holds the engine lock (a process-shared,
// robust mutex), the table of processes that share the stack, the count of
// holders of each socket, and, through the memory resource, the whole stack:
// sockets, connections and their buffers. Boost.Interprocess's best-fit
// allocator (rbtree_best_fit) manages the memory.
//
// Everything here is used with the engine lock held, except the per-process
// wakeup words, which are futexes.
#pragma once

#include <pthread.h>
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <string>
#include <vector>

namespace veer::preload {

// One process that uses the shared stack.
struct ProcessSlot {
  // 0: free. >0: the process. <0: reserved by the process -pid for a child
  // being forked (the child takes it over).
  int32_t pid = 0;
  uint64_t start_time = 0;  // /proc/PID/stat's starttime: a reused pid is not it
  uint64_t reserved_at_ns = 0;
  // Bumped (and futex-woken) when the stack moved while some of the
  // process's threads wait, or, for the process that runs the I/O thread,
  // when its deadline moved earlier; its relay thread then wakes them.
  std::atomic<uint32_t> wake_seq{0};
  std::atomic<uint32_t> waiting{0};  // threads of the process waiting for the stack
};

class SharedArena final : public std::pmr::memory_resource {
 public:
  static constexpr int kMaxProcesses = 64;

  // Maps `bytes` of address space (pages are only used as touched) and
  // builds the arena in it. nullptr with *error on failure.
  static SharedArena* create(size_t bytes, std::string* error);
  // Unmaps an arena this process no longer uses (a forked child that makes
  // its own, or a failed start). The other processes keep theirs.
  static void unmap(SharedArena* arena);

  // The engine lock.
  pthread_mutex_t* mutex() { return &mutex_; }

  // The stack, once a process started it (in the arena; nullptr before).
  void* stack = nullptr;

  ProcessSlot slots[kMaxProcesses];
  // The process whose I/O thread reads the device and runs the timers (it
  // also publishes the socket view for `veer ss`); 0 while none does. When
  // it is gone, another process's relay thread takes over.
  std::atomic<int32_t> pump_pid{0};
  int32_t pump_slot = -1;
  uint64_t pump_start_time = 0;
  // What that I/O thread sleeps until (ns of the engine clock), -1 for
  // nothing: others wake it only when they need it earlier.
  int64_t io_sleep_until_ns = -1;
  // Set once two processes share the stack: from then on every process
  // runs a relay thread and looks for dead processes.
  bool shared = false;

  // Holders of each socket (key: SocketId), one bit per process slot.
  uint64_t holders(uint64_t socket) const;
  void hold(uint64_t socket, int slot);
  // Drops the slot's hold; true when it was the last one.
  bool release(uint64_t socket, int slot);
  // Gives `child` every hold of `parent` (fork).
  void copy_holds(int parent, int child);
  // Drops every hold of `slot`; returns the sockets no one holds any more
  // (a dead process's sockets, to be closed).
  std::vector<uint64_t> release_all(int slot);

  size_t bytes_in_use() const;
  size_t bytes_total() const { return bytes_; }

 private:
  SharedArena() = default;
  void* do_allocate(size_t bytes, size_t align) override;
  void do_deallocate(void* p, size_t bytes, size_t align) override;
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }

  struct Holders;
  pthread_mutex_t mutex_;
  size_t bytes_ = 0;
  void* manager_ = nullptr;     // the Boost segment manager, inside the mapping
  Holders* holders_ = nullptr;  // in the arena
};

void futex_wake_shared(std::atomic<uint32_t>* word);

// /proc/PID/stat's start time, 0 if the process is gone; *zombie when it has
// exited but is not reaped yet.
uint64_t process_start_time(pid_t pid, bool* zombie);
// Does process `pid` still map `addr`? No once it called exec; yes when its
// maps cannot be read (a process of another user: nginx's workers run as
// nobody, and only their exit can be seen).
bool process_maps(pid_t pid, const void* addr);

// Waits while *word == expected, at most `timeout_ns` (-1: no limit).
void futex_wait_shared(std::atomic<uint32_t>* word, uint32_t expected, int64_t timeout_ns);

}  // namespace veer::preload
