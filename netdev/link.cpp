#include "netdev/link.h"

#include <arpa/inet.h>
#include <linux/ethtool.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netlink/addr.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/socket.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "netdev/tun_queue.h"

namespace veer::netdev {
namespace {

struct SockFree {
  void operator()(nl_sock* s) const { nl_socket_free(s); }
};
struct LinkPut {
  void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
struct AddrPut {
  void operator()(rtnl_addr* a) const { rtnl_addr_put(a); }
};
struct NlAddrPut {
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};
using Sock = std::unique_ptr<nl_sock, SockFree>;
using Link = std::unique_ptr<rtnl_link, LinkPut>;

// libnl reports errors as negative NLE_* codes; name the usual fix for the
// one an unprivileged caller meets.
std::string nl_error(int err) {
  std::string text = nl_geterror(err);
  if (err == -NLE_PERM) text += " (needs CAP_NET_ADMIN)";
  return text;
}

// A fresh rtnetlink socket per call: link setup is rare and this keeps no
// state between calls (and so none to share between threads).
Sock connect_route(std::string* error) {
  Sock sock(nl_socket_alloc());
  if (!sock) {
    *error = "nl_socket_alloc: out of memory";
    return nullptr;
  }
  if (int err = nl_connect(sock.get(), NETLINK_ROUTE); err < 0) {
    *error = "connect to rtnetlink: " + nl_error(err);
    return nullptr;
  }
  return sock;
}

// Looks `ifname` up in the kernel. On failure `*error` is "<what> <ifname>: no
// such link" or the netlink error.
Link get_link(nl_sock* sock, const std::string& ifname, const std::string& what,
              std::string* error) {
  rtnl_link* link = nullptr;
  int err = rtnl_link_get_kernel(sock, 0, ifname.c_str(), &link);
  if (err < 0) {
    *error = what + " " + ifname + ": " +
             (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV ? std::string("no such link")
                                                            : nl_error(err));
    return nullptr;
  }
  return Link(link);
}

// Builds a change with `fill(change, arg)` and applies it to the link (libnl
// sends RTM_NEWLINK, falling back to RTM_SETLINK on older kernels).
std::string change_link(const std::string& ifname, const std::string& what,
                        void (*fill)(rtnl_link* change, int arg), int arg) {
  std::string error;
  Sock sock = connect_route(&error);
  if (!sock) return error;
  Link orig = get_link(sock.get(), ifname, what, &error);
  if (!orig) return error;
  Link change(rtnl_link_alloc());
  if (!change) return what + " " + ifname + ": out of memory";
  fill(change.get(), arg);
  if (int err = rtnl_link_change(sock.get(), orig.get(), change.get(), 0); err < 0) {
    return what + " " + ifname + ": " + nl_error(err);
  }
  return "";
}

// The last resort for deleting a persistent TAP: attach and drop the persist
// flag, so the link goes away when the fd closes.
std::string unpersist_tap(const std::string& ifname) {
  std::string error;
  int fd = open_tap_queue(ifname, &error);
  if (fd < 0) return error;
  int rc = ::ioctl(fd, TUNSETPERSIST, 0);
  int err = errno;
  ::close(fd);
  if (rc < 0) return "TUNSETPERSIST(0) " + ifname + ": " + std::strerror(err);
  return "";
}

}  // namespace

std::string create_persistent_tap(const std::string& ifname) {
  std::string error;
  int fd = open_tap_queue(ifname, &error);
  if (fd == -EBUSY && is_tap_link(ifname)) {
    // Someone holds it attached: it exists as a TAP, which is all we promise.
    return "";
  }
  if (fd < 0) return error;
  int rc = ::ioctl(fd, TUNSETPERSIST, 1);
  int err = errno;
  ::close(fd);
  if (rc < 0) return "TUNSETPERSIST " + ifname + ": " + std::strerror(err);
  return "";
}

std::string delete_link(const std::string& ifname) {
  std::string error;
  Sock sock = connect_route(&error);
  if (!sock) return error;
  Link link = get_link(sock.get(), ifname, "delete_link", &error);
  if (!link) return error;
  int err = rtnl_link_delete(sock.get(), link.get());
  if (err == 0) return "";
  if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV) {
    return "delete_link " + ifname + ": no such link";
  }
  // Kernels that refuse RTM_DELLINK for a tun link still let its owner drop
  // the persist flag.
  if (is_tap_link(ifname) && unpersist_tap(ifname).empty() && !link_exists(ifname)) return "";
  return "delete_link " + ifname + ": " + nl_error(err);
}

std::string set_link_up(const std::string& ifname, bool up) {
  return change_link(
      ifname, up ? "set_link_up" : "set_link_down",
      [](rtnl_link* change, int up) {
        if (up) {
          rtnl_link_set_flags(change, IFF_UP);
        } else {
          rtnl_link_unset_flags(change, IFF_UP);
        }
      },
      up ? 1 : 0);
}

std::string set_link_mtu(const std::string& ifname, int mtu) {
  if (mtu <= 0) return "set_link_mtu " + ifname + ": bad MTU " + std::to_string(mtu);
  return change_link(
      ifname, "set_link_mtu",
      [](rtnl_link* change, int mtu) { rtnl_link_set_mtu(change, static_cast<unsigned>(mtu)); },
      mtu);
}

std::string add_address(const std::string& ifname, Ipv4Prefix prefix) {
  const std::string what = "add_address " + prefix.to_string() + " to";
  std::string error;
  Sock sock = connect_route(&error);
  if (!sock) return error;
  Link link = get_link(sock.get(), ifname, what, &error);
  if (!link) return error;

  std::unique_ptr<rtnl_addr, AddrPut> addr(rtnl_addr_alloc());
  uint32_t local_be = htonl(prefix.addr.v);
  std::unique_ptr<nl_addr, NlAddrPut> local(nl_addr_build(AF_INET, &local_be, sizeof local_be));
  if (!addr || !local) return what + " " + ifname + ": out of memory";
  nl_addr_set_prefixlen(local.get(), prefix.len);
  rtnl_addr_set_ifindex(addr.get(), rtnl_link_get_ifindex(link.get()));
  rtnl_addr_set_family(addr.get(), AF_INET);
  if (int err = rtnl_addr_set_local(addr.get(), local.get()); err < 0) {
    return what + " " + ifname + ": " + nl_error(err);
  }
  rtnl_addr_set_prefixlen(addr.get(), prefix.len);
  // What `ip addr add A/N brd +` does; /31 and /32 have no broadcast (RFC 3021).
  if (prefix.len <= 30) {
    uint32_t brd_be = htonl(prefix.broadcast().v);
    std::unique_ptr<nl_addr, NlAddrPut> brd(nl_addr_build(AF_INET, &brd_be, sizeof brd_be));
    if (!brd) return what + " " + ifname + ": out of memory";
    if (int err = rtnl_addr_set_broadcast(addr.get(), brd.get()); err < 0) {
      return what + " " + ifname + ": " + nl_error(err);
    }
  }
  int err = rtnl_addr_add(sock.get(), addr.get(), 0);
  if (err < 0 && err != -NLE_EXIST) return what + " " + ifname + ": " + nl_error(err);
  return "";
}

std::optional<MacAddr> link_mac(const std::string& ifname) {
  std::string error;
  Sock sock = connect_route(&error);
  if (!sock) return std::nullopt;
  Link link = get_link(sock.get(), ifname, "link_mac", &error);
  if (!link) return std::nullopt;
  nl_addr* hw = rtnl_link_get_addr(link.get());
  if (hw == nullptr || nl_addr_get_len(hw) != 6) return std::nullopt;
  MacAddr mac;
  std::memcpy(mac.b.data(), nl_addr_get_binary_addr(hw), 6);
  return mac;
}

bool link_exists(const std::string& ifname) {
  std::string error;
  Sock sock = connect_route(&error);
  return sock && get_link(sock.get(), ifname, "link_exists", &error) != nullptr;
}

std::string create_bridge(const std::string& name) {
  std::string error;
  Sock sock = connect_route(&error);
  if (!sock) return error;
  if (Link existing = get_link(sock.get(), name, "create_bridge", &error)) {
    const char* type = rtnl_link_get_type(existing.get());
    if (type && std::strcmp(type, "bridge") == 0) return "";
    return "create_bridge " + name + ": a link of that name exists and is not a bridge";
  }
  if (int err = rtnl_link_bridge_add(sock.get(), name.c_str()); err < 0)
    return "create_bridge " + name + ": " + nl_error(err);
  return "";
}

std::string enslave(const std::string& port, const std::string& bridge) {
  std::string error;
  Sock sock = connect_route(&error);
  if (!sock) return error;
  Link master = get_link(sock.get(), bridge, "enslave", &error);
  if (!master) return error;
  Link slave = get_link(sock.get(), port, "enslave", &error);
  if (!slave) return error;
  if (rtnl_link_get_master(slave.get()) == rtnl_link_get_ifindex(master.get())) return "";
  if (int err = rtnl_link_enslave(sock.get(), master.get(), slave.get()); err < 0)
    return "enslave " + port + " to " + bridge + ": " + nl_error(err);
  return "";
}

int bridge_port_count(const std::string& bridge) {
  std::string error;
  Sock sock = connect_route(&error);
  if (!sock) return -1;
  Link master = get_link(sock.get(), bridge, "bridge_port_count", &error);
  if (!master) return -1;
  nl_cache* cache = nullptr;
  if (rtnl_link_alloc_cache(sock.get(), AF_UNSPEC, &cache) < 0) return -1;
  int index = rtnl_link_get_ifindex(master.get());
  int count = 0;
  for (nl_object* o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o))
    if (rtnl_link_get_master(reinterpret_cast<rtnl_link*>(o)) == index) ++count;
  nl_cache_free(cache);
  return count;
}

std::string create_veth_pair(const std::string& name, const std::string& peer) {
  std::string error;
  Sock sock = connect_route(&error);
  if (!sock) return error;
  if (Link existing = get_link(sock.get(), name, "create_veth_pair", &error)) {
    const char* type = rtnl_link_get_type(existing.get());
    if (type && std::strcmp(type, "veth") == 0 && link_exists(peer)) return "";
    return "create_veth_pair " + name + ": a link of that name exists and is not a veth";
  }
  // One queue each: the kernel spreads a veth's traffic over every receive
  // queue (one per CPU by default), and veer binds only the one the device
  // knob names, so frames on the others would miss veer's socket.
  Link link(rtnl_link_veth_alloc());
  if (!link) return "create_veth_pair " + name + ": out of memory";
  rtnl_link* other = rtnl_link_veth_get_peer(link.get());
  rtnl_link_set_name(link.get(), name.c_str());
  rtnl_link_set_name(other, peer.c_str());
  for (rtnl_link* l : {link.get(), other}) {
    rtnl_link_set_num_tx_queues(l, 1);
    rtnl_link_set_num_rx_queues(l, 1);
  }
  int err = rtnl_link_add(sock.get(), link.get(), NLM_F_CREATE | NLM_F_EXCL);
  rtnl_link_put(other);  // rtnl_link_veth_get_peer took a reference
  if (err < 0) return "create_veth_pair " + name + " " + peer + ": " + nl_error(err);
  return "";
}

bool is_veth_link(const std::string& ifname) {
  std::string error;
  Sock sock = connect_route(&error);
  if (!sock) return false;
  Link link = get_link(sock.get(), ifname, "is_veth_link", &error);
  if (!link) return false;
  const char* type = rtnl_link_get_type(link.get());
  return type != nullptr && std::strcmp(type, "veth") == 0;
}

int link_mtu(const std::string& ifname, std::string* error) {
  int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) {
    *error = "socket(AF_INET) to read the MTU of " + ifname + ": " + std::strerror(errno);
    return -1;
  }
  struct ifreq ifr {};
  std::memcpy(ifr.ifr_name, ifname.data(), std::min(ifname.size(), sizeof ifr.ifr_name - 1));
  int rc = ::ioctl(sock, SIOCGIFMTU, &ifr);
  int err = errno;
  ::close(sock);
  if (rc < 0) {
    *error = "SIOCGIFMTU " + ifname + ": " + std::strerror(err);
    return -1;
  }
  return ifr.ifr_mtu;
}

std::string set_tx_checksum_offload(const std::string& ifname, bool on) {
  int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return "socket(AF_INET) for ethtool on " + ifname + ": " + std::strerror(errno);
  ethtool_value value{};
  value.cmd = ETHTOOL_STXCSUM;
  value.data = on ? 1 : 0;
  struct ifreq ifr {};
  std::memcpy(ifr.ifr_name, ifname.data(), std::min(ifname.size(), sizeof ifr.ifr_name - 1));
  ifr.ifr_data = reinterpret_cast<char*>(&value);
  int rc = ::ioctl(sock, SIOCETHTOOL, &ifr);
  int err = errno;
  ::close(sock);
  if (rc < 0) return "ETHTOOL_STXCSUM " + ifname + ": " + std::strerror(err);
  return "";
}

}  // namespace veer::netdev
