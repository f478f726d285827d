#include "core/tcp/congestion/congestion_factory.h"

#include <algorithm>

#include "core/tcp/congestion/reno.h"

namespace veer::core {

bool is_available_congestion_control(std::string_view name) {
  return std::find(kAvailableCongestionControl.begin(), kAvailableCongestionControl.end(), name) !=
         kAvailableCongestionControl.end();
}

CongestionControlPtr make_congestion_control(std::string_view name,
                                             std::pmr::memory_resource* memory,
                                             const CongestionParams& params) {
  if (name == Reno::kName) return make_congestion_control_in<Reno>(memory);
  if (name == Cubic::kName) return make_congestion_control_in<Cubic>(memory, params.cubic);
  return nullptr;
}

}  // namespace veer::core
