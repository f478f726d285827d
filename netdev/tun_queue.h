// Opening a queue on a TAP through /dev/net/tun: shared by TapDevice (which
// keeps the queue) and link setup (which opens one only to set or clear the
// persist flag). Internal to netdev/.
#pragma once

#include <string>

namespace veer::netdev {

// Attaches a new file descriptor to the TAP `ifname` (IFF_TAP|IFF_NO_PI),
// creating a transient TAP if no link of that name exists. The fd is
// non-blocking and close-on-exec. Returns the fd, or -errno with `*error` set
// to a message that names the likely fix.
int open_tap_queue(const std::string& ifname, std::string* error);
// The same with IFF_VNET_HDR when `vnet_hdr`: every read and write then
// starts with a virtio_net_hdr.
int open_tap_queue(const std::string& ifname, bool vnet_hdr, std::string* error);

}  // namespace veer::netdev
