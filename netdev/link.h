// Link setup in the current network namespace through rtnetlink
// (libnl-route-3), never by running `ip`. Each call that changes something
// returns an empty string on success, or a message naming what failed and why.
#pragma once

#include <optional>
#include <string>

#include "core/types.h"

namespace veer::netdev {

// Creates the TAP `ifname` and marks it persistent so it outlives this
// process (the only way to make a TAP is the TUNSETIFF ioctl; rtnetlink
// cannot). Succeeds if `ifname` already exists as a TAP.
std::string create_persistent_tap(const std::string& ifname);

// Removes the link. A missing link is an error ("no such link").
std::string delete_link(const std::string& ifname);

std::string set_link_up(const std::string& ifname, bool up);
std::string set_link_mtu(const std::string& ifname, int mtu);

// Adds `prefix.addr` with its prefix length (and the subnet broadcast) to the
// link. The address already being there counts as success.
std::string add_address(const std::string& ifname, Ipv4Prefix prefix);

// Creates the veth pair `name` <-> `peer` (one queue each); an existing veth
// `name` whose peer exists is success.
std::string create_veth_pair(const std::string& name, const std::string& peer);
bool is_veth_link(const std::string& ifname);

// Turns the link's transmit checksum offload (and with it TSO) on or off,
// as `ethtool -K IFNAME tx on|off` does.
std::string set_tx_checksum_offload(const std::string& ifname, bool on);

// The link's MTU, or -1 with `*error` saying why.
int link_mtu(const std::string& ifname, std::string* error);

// Creates the bridge `name`; an existing bridge of that name is success.
std::string create_bridge(const std::string& name);
// Makes `port` a port of `bridge` (already being one is success).
std::string enslave(const std::string& port, const std::string& bridge);
// How many links have `bridge` as their master; -1 if it does not exist.
int bridge_port_count(const std::string& bridge);

// The kernel side's hardware address, or nullopt if the link is missing or
// has no Ethernet address.
std::optional<MacAddr> link_mac(const std::string& ifname);
bool link_exists(const std::string& ifname);

// Whether `ifname` exists in the current namespace and is a TAP (not a TUN, not
// another kind of link). Asks the driver through ETHTOOL_GDRVINFO rather than
// reading /sys, whose view belongs to the namespace sysfs was mounted in.
bool is_tap_link(const std::string& ifname);

}  // namespace veer::netdev
