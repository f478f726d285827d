// `veer net up|down`: the demo topology. One persistent TAP whose kernel side
// holds host_address; veer's stack answers for `address` on the other side of
// it. With --xdp, a veth pair instead: veer's AF_XDP socket sits on one end
// (no address), the kernel holds host_address on the other. Everything goes
// through netlink (netdev/link.h) in the caller's network namespace.
#include <algorithm>
#include <cstdio>
#include <string>

#include "core/config/config.h"
#include "netdev/link.h"
#include "netdev/xdp_device.h"
#include "tools/command.h"
#include "tools/options.h"

namespace veer::tools {
namespace {

constexpr std::string_view kName = "net";

// Prints one finished step, in the words an operator would use.
void step(const std::string& text) {
  std::printf("%s\n", text.c_str());
}

// Every step is idempotent (an existing TAP, address or MTU is fine), so
// running `up` again repairs a half-made topology instead of failing on it.
int net_up(const config::Config& config) {
  const std::string dev = config.device_name();
  const int mtu = config.get_int("mtu");
  const Ipv4Prefix host = config.host_address();
  const Ipv4Prefix veer = config.stack_config().address;

  bool existed = netdev::is_tap_link(dev);
  if (auto error = netdev::create_persistent_tap(dev); !error.empty()) {
    return fail(kName, error, kExitFailure);
  }
  step(existed ? "TAP " + dev + " already exists" : "created TAP " + dev);

  if (auto error = netdev::set_link_mtu(dev, mtu); !error.empty()) {
    return fail(kName, error, kExitFailure);
  }
  step("MTU " + std::to_string(mtu) + " on " + dev);

  // With a bridge, the kernel side's address sits on the bridge, and every
  // veer TAP joined to it shares one network with the kernel and each other.
  const std::string bridge = config.get_text("bridge");
  std::string kernel_side = dev;
  if (!bridge.empty()) {
    if (auto error = netdev::create_bridge(bridge); !error.empty()) {
      return fail(kName, error, kExitFailure);
    }
    if (auto error = netdev::enslave(dev, bridge); !error.empty()) {
      return fail(kName, error, kExitFailure);
    }
    if (auto error = netdev::set_link_up(bridge, true); !error.empty()) {
      return fail(kName, error, kExitFailure);
    }
    step(dev + " is a port of bridge " + bridge);
    kernel_side = bridge;
  }
  if (auto error = netdev::add_address(kernel_side, host); !error.empty()) {
    return fail(kName, error, kExitFailure);
  }
  step("kernel side " + host.to_string() + " on " + kernel_side + ", veer at " +
       veer.addr.to_string());
  // The configuration allows it, but then the kernel has no connected route
  // to veer and nothing reaches it without one added by hand.
  if (!host.contains(veer.addr)) {
    std::fprintf(stderr, "veer net: warning: veer's address %s is outside %s\n",
                 veer.addr.to_string().c_str(), host.to_string().c_str());
  }

  if (auto error = netdev::set_link_up(dev, true); !error.empty()) {
    return fail(kName, error, kExitFailure);
  }
  step(dev + " is up");
  return kExitOk;
}

// The kernel's end of the veth pair whose other end is `dev`.
std::string veth_peer(const std::string& dev) {
  return dev + "-k";
}

int net_up_xdp(const config::Config& config) {
  const std::string dev = config.device_name();
  const std::string peer = veth_peer(dev);
  // Native XDP on veth refuses larger frames without multi-buffer; veer's
  // AF_XDP device uses it (up to 9000) where the kernel has it.
  const int mtu = std::min<int>(config.get_int("mtu"), netdev::kMaxXdpMtuMultiBuffer);
  const Ipv4Prefix host = config.host_address();
  const Ipv4Prefix veer = config.stack_config().address;
  if (peer.size() > 15) {
    return fail(
        kName,
        "device name " + dev + " is too long for a veth pair (" + peer + " must fit 15 characters)",
        kExitUsage);
  }
  if (!config.get_text("bridge").empty()) {
    return fail(kName, "--xdp does not take a bridge (unset `bridge`)", kExitUsage);
  }
  bool existed = netdev::is_veth_link(dev);
  if (auto error = netdev::create_veth_pair(dev, peer); !error.empty()) {
    return fail(kName, error, kExitFailure);
  }
  step(existed ? "veth " + dev + " <-> " + peer + " already exists"
               : "created veth " + dev + " <-> " + peer);
  for (const std::string& link : {dev, peer}) {
    if (auto error = netdev::set_link_mtu(link, mtu); !error.empty()) {
      return fail(kName, error, kExitFailure);
    }
  }
  step("MTU " + std::to_string(mtu) + " on " + dev + " and " + peer);
  // The kernel would leave its TCP checksums for veth to "offload", and a
  // frame redirected to AF_XDP carries them unfilled: veer would drop every
  // segment as corrupt. Have the kernel compute them.
  if (auto error = netdev::set_tx_checksum_offload(peer, false); !error.empty()) {
    return fail(kName, error, kExitFailure);
  }
  step("checksum offload off on " + peer + " (AF_XDP sees frames as sent)");
  if (auto error = netdev::add_address(peer, host); !error.empty()) {
    return fail(kName, error, kExitFailure);
  }
  step("kernel side " + host.to_string() + " on " + peer + ", veer at " + veer.addr.to_string() +
       " on " + dev + " (AF_XDP; device = xdp:" + dev + ")");
  if (!host.contains(veer.addr)) {
    std::fprintf(stderr, "veer net: warning: veer's address %s is outside %s\n",
                 veer.addr.to_string().c_str(), host.to_string().c_str());
  }
  for (const std::string& link : {peer, dev}) {
    if (auto error = netdev::set_link_up(link, true); !error.empty()) {
      return fail(kName, error, kExitFailure);
    }
  }
  step(dev + " and " + peer + " are up");
  return kExitOk;
}

int net_down(const config::Config& config) {
  const std::string dev = config.device_name();
  if (!netdev::link_exists(dev)) {
    step("no link " + dev + " here, nothing to remove");
    return kExitOk;
  }
  // The device knob may name any link (tap:eth0, xdp:eth0); only ever remove
  // a TAP, or a veth pair `veer net up --xdp` made (its peer is NAME-k).
  if (netdev::is_veth_link(dev) && netdev::link_exists(veth_peer(dev))) {
    if (auto error = netdev::delete_link(dev); !error.empty()) {
      return fail(kName, error, kExitFailure);
    }
    step("removed veth " + dev + " <-> " + veth_peer(dev));
    return kExitOk;
  }
  if (!netdev::is_tap_link(dev)) {
    return fail(kName, dev + " is not a TAP device; not removing it", kExitFailure);
  }
  if (auto error = netdev::delete_link(dev); !error.empty()) {
    return fail(kName, error, kExitFailure);
  }
  step("removed TAP " + dev);
  // The bridge goes with its last port.
  const std::string bridge = config.get_text("bridge");
  if (!bridge.empty() && netdev::bridge_port_count(bridge) == 0) {
    if (auto error = netdev::delete_link(bridge); !error.empty()) {
      return fail(kName, error, kExitFailure);
    }
    step("removed bridge " + bridge + " (no ports left)");
  }
  return kExitOk;
}

int run(std::span<char* const> args) {
  ConfigOptions options;
  std::string action;
  bool xdp = false;
  for (size_t i = 0; i < args.size();) {
    std::string_view arg = args[i];
    if (is_help_flag(arg)) return show_usage(kNetCommand);
    if (arg == "--xdp") {
      xdp = true;
      ++i;
      continue;
    }
    std::string error;
    Taken taken = take_config_option(args, i, options, &error);
    if (taken == Taken::Error) return usage_error(kName, error);
    if (taken == Taken::Yes) continue;
    if (arg.starts_with('-'))
      return usage_error(kName, "unknown option '" + std::string(arg) + "'");
    if (!action.empty()) return usage_error(kName, "unexpected '" + std::string(arg) + "'");
    action = arg;
    ++i;
  }
  if (action.empty()) return usage_error(kName, "missing 'up' or 'down'");
  if (action != "up" && action != "down") {
    return usage_error(kName, "unknown action '" + action + "' (expected 'up' or 'down')");
  }

  config::Config config;
  if (auto refused = load_with_options(options, config)) {
    return fail(kName, refused->message, kExitUsage);
  }
  if (action == "down") return net_down(config);
  return xdp ? net_up_xdp(config) : net_up(config);
}

}  // namespace

const Command kNetCommand = {
    .name = kName,
    .summary = "create or remove the TAP device (or veth pair, --xdp) veer's stack runs on",
    .usage =
        "usage: veer net up [--xdp] [--config FILE] [-s KEY=VALUE]...\n"
        "       veer net down [--config FILE] [-s KEY=VALUE]...\n"
        "\n"
        "up    creates the persistent TAP named by the `device` knob (tap:veer0),\n"
        "      sets its MTU to `mtu`, gives the kernel side `host_address`\n"
        "      (10.77.0.1/24) and brings it up. Running it again is harmless.\n"
        "      With `bridge` set, the TAP joins that bridge (made if missing), which\n"
        "      holds host_address instead: several veer processes, each with its own\n"
        "      device and address, then share one network with the kernel.\n"
        "      veer itself answers at `address` (10.77.0.2) on the other side.\n"
        "      With --xdp, a veth pair NAME <-> NAME-k instead of the TAP (NAME from\n"
        "      the device knob, tap:NAME or xdp:NAME): NAME stays without an address\n"
        "      for veer's AF_XDP socket (run veer with device = xdp:NAME), NAME-k\n"
        "      holds host_address; the MTU is capped at 9000 (veer's AF_XDP uses XDP\n"
        "      multi-buffer; a kernel without it takes at most 3498 on veth).\n"
        "down  removes that TAP or veth pair; a missing one is not an error.\n"
        "\n"
        "Both act in the current network namespace and need CAP_NET_ADMIN there.\n"
        "\n"
        "Options:\n"
        "  --xdp              up: a veth pair for AF_XDP instead of a TAP\n"
        "  --config FILE      read FILE after /etc/veer.conf\n"
        "  -s, --set KEY=VAL  set one knob (may be repeated)\n"
        "\n"
        "Exit status: 0 done, 1 the kernel refused a step, 2 a bad command line\n"
        "or configuration.\n",
    .run = run,
};

}  // namespace veer::tools
