// Packets written the way scripts write them, for failure messages:
//   S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>
#pragma once

#include <string>
#include <vector>

#include "tools/drill/ast.h"
#include "tools/drill/segment.h"

namespace veer::drill {

std::string format_flags(uint8_t flags);
std::string format_options(const std::vector<TcpOptionSpec>& options);
// A script packet, without its direction.
std::string format_packet(const PacketSpec& p);
// A segment in script space (after Flow's mapping), with its window.
std::string format_segment(const Segment& s);
// Microseconds as seconds with six decimals ("1.000000").
std::string format_usecs(int64_t usecs);

}  // namespace veer::drill
