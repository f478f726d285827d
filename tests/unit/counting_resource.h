// A memory resource that counts what goes through it, on top of new/delete:
// the tests of pmr-aware code check where their memory comes from.
#pragma once

#include <cstddef>
#include <memory_resource>

namespace veer::test {

class CountingResource : public std::pmr::memory_resource {
 public:
  size_t allocations = 0;  // every allocate() so far
  size_t in_use = 0;       // bytes allocated and not yet freed

 private:
  void* do_allocate(size_t bytes, size_t align) override {
    ++allocations;
    in_use += bytes;
    return std::pmr::new_delete_resource()->allocate(bytes, align);
  }
  void do_deallocate(void* p, size_t bytes, size_t align) override {
    in_use -= bytes;
    std::pmr::new_delete_resource()->deallocate(p, bytes, align);
  }
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }
};

}  // namespace veer::test
