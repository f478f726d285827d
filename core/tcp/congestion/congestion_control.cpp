#include "core/tcp/congestion/congestion_control.h"

namespace veer::core {

void CongestionControlDeleter::operator()(CongestionControl* cc) const {
  if (cc == nullptr) return;
  // The block starts at the most-derived object, not necessarily at the base.
  void* block = dynamic_cast<void*>(cc);
  cc->~CongestionControl();
  memory_->deallocate(block, size_, align_);
}

}  // namespace veer::core
