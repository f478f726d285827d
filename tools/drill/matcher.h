// Is the segment the stack sent the one the script expects? packetdrill's
// rules (run_packet.c verify_outbound_live_*): every header field the script
// states is compared exactly (the window only when the script gives `win`),
// the options kind by kind in order unless the script says <...>, TSval only
// within the tolerance when --tcp_ts_tick_usecs is set, TSecr never; the
// payload must have the script's length and be the zeros that were written.
//
// Linux hands the wire large TSO segments where veer sends MSS-sized ones;
// like packetdrill does for GSO, consecutive segments are merged up to the
// script's length (unless --strict_segments), after checking that each one
// continues the previous.
#pragma once

#include <string>
#include <vector>

#include "tools/drill/ast.h"
#include "tools/drill/segment.h"

namespace veer::drill {

struct MatchSettings {
  long tcp_ts_tick_usecs = 0;
  long tolerance_usecs = 4000;
};

// An empty string when `actual` (in script space) is what `script` expects,
// else the first difference, e.g. "ack: expected 1001, actual 1".
std::string compare_outbound(const PacketSpec& script, const Segment& actual,
                             const MatchSettings& settings);

// An empty string when `next` may follow `prev` in one merged segment: same
// addresses, ack, window, options length and flags (FIN, PSH and CWR aside),
// and its data starts where prev's ended. A fragment that is not the last
// must be as long as the previous one. `expected_total`: the script's length.
std::string check_fragment(const Segment& prev, const Segment& next, uint32_t merged_so_far,
                           uint32_t expected_total);

// One segment from consecutive fragments: the last one's header (its flags,
// options and send time) with the first one's sequence number and CWR bit,
// and all their data (packetdrill's aggregate_packets()).
Segment merge_fragments(const std::vector<Segment>& fragments);

}  // namespace veer::drill
