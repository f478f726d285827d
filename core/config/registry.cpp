#include "core/config/registry.h"

#include <algorithm>
#include <climits>

namespace veer::config {
namespace {

// Linux's bounds, from net/ipv4/sysctl_net_ipv4.c unless noted.
constexpr int64_t kMaxTcpSyncnt = 127;  // MAX_TCP_SYNCNT (include/net/tcp.h)
constexpr int64_t kU8Max = 255;         // proc_dou8vec_minmax on a u8 with no extra2
// tcp_fin_timeout is proc_dointvec_jiffies: seconds up to INT_MAX / HZ. HZ is
// a kernel build option; 1000 gives the smallest (strictest) bound.
constexpr int64_t kMaxJiffiesSeconds = INT_MAX / 1000;

// GCC 12 warns about designated initializers that leave out members even
// when those members have default initializers; the table relies on that.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
constexpr std::array kKnobs = {
    // --- TCP (Linux sysctls) ------------------------------------------------
    Knob{.name = "net.ipv4.tcp_syn_retries",
         .kind = Kind::Int,
         .default_value = "6",
         .min = 1,
         .max = kMaxTcpSyncnt,
         .help = "SYN retransmissions of an active open before connect() fails with ETIMEDOUT",
         .sysctl = true},
    Knob{.name = "net.ipv4.tcp_syn_linear_timeouts",
         .kind = Kind::Int,
         .default_value = "4",
         .min = 0,
         .max = kMaxTcpSyncnt,
         .help = "SYN retransmissions at the initial RTO before exponential backoff (Linux 6.5+)",
         .sysctl = true},
    Knob{.name = "net.ipv4.tcp_synack_retries",
         .kind = Kind::Int,
         .default_value = "5",
         .min = 0,
         .max = kU8Max,
         .help = "SYN-ACK retransmissions of a passive open before the request is dropped",
         .sysctl = true},
    Knob{.name = "net.ipv4.tcp_retries2",
         .kind = Kind::Int,
         .default_value = "15",
         .min = 0,
         .max = kU8Max,
         .help = "Retransmissions of unacknowledged data before the connection is aborted "
                 "(Linux turns it into a timeout: 924.6 s at 15)",
         .sysctl = true},
    Knob{.name = "net.ipv4.tcp_rto_min_us",
         .kind = Kind::Int,
         .default_value = "200000",
         .min = 1,
         .max = INT_MAX,
         .help = "Smallest retransmission timeout in microseconds, for connections opened "
                 "after the change (Linux 6.11+)",
         .sysctl = true},
    Knob{.name = "net.ipv4.tcp_rto_max_ms",
         .kind = Kind::Int,
         .default_value = "120000",
         .min = 1000,
         .max = 120000,
         .help = "Largest retransmission timeout in milliseconds; it also shortens the time "
                 "tcp_retries2 stands for (Linux 6.15+)",
         .sysctl = true},
    Knob{.name = "net.ipv4.tcp_abort_on_overflow",
         .kind = Kind::Int,
         .default_value = "0",
         .min = 0,
         .max = kU8Max,
         .help = "Answer a handshake's final ACK with RST when the accept queue is full, "
                 "instead of dropping it so the client retries",
         .sysctl = true},
    Knob{.name = "net.ipv4.tcp_rfc1337",
         .kind = Kind::Int,
         .default_value = "0",
         .min = 0,
         .max = kU8Max,
         .help = "Ignore RSTs in TIME_WAIT (RFC 1337 TIME-WAIT assassination hazards); 0 lets "
                 "a RST end TIME_WAIT early",
         .sysctl = true},
    Knob{.name = "net.ipv4.tcp_stdurg",
         .kind = Kind::Int,
         .default_value = "0",
         .min = 0,
         .max = kU8Max,
         .help = "Read the urgent pointer as RFC 1122 says (the last urgent byte) instead of "
                 "BSD's byte after it",
         .sysctl = true},
    Knob{.name = "net.ipv4.tcp_orphan_retries",
         .kind = Kind::Int,
         .default_value = "0",
         .min = 0,
         .max = 255,
         .help = "Retransmissions before a connection the program closed is dropped; 0 means "
                 "8 while the peer still answers (Linux tcp_orphan_retries())",
         .sysctl = true},
    Knob{.name = "net.ipv4.tcp_fin_timeout",
         .kind = Kind::Int,
         .default_value = "60",
         .min = 1,
         .max = kMaxJiffiesSeconds,
         .help = "Seconds an orphaned connection stays in FIN_WAIT_2 (Linux stores jiffies; "
                 "given in seconds)",
         .sysctl = true},
    Knob{.name = "net.ipv4.tcp_tw_reuse",
         .kind = Kind::Int,
         .default_value = "2",
         .min = 0,
         .max = 2,
         .help = "Reuse a TIME_WAIT 4-tuple for a new outgoing connection: 0 never, 1 when "
                 "the peer's timestamps make it safe, 2 loopback only",
         .sysctl = true},
    Knob{.name = "net.ipv4.tcp_tw_reuse_delay",
         .kind = Kind::Int,
         .default_value = "1000",
         .min = 1,
         .max = 60000,
         .help = "Milliseconds a TIME_WAIT must have lasted before tcp_tw_reuse may take "
                 "its 4-tuple (Linux 6.13+)",
         .sysctl = true},
    Knob{.name = "net.ipv4.ip_local_port_range",
         .kind = Kind::PortRange,
         .default_value = "32768 60999",
         .min = 1,
         .max = 65535,
         .help = "Ephemeral ports for connect() and implicit bind: low high",
         .sysctl = true},
    // net/core/sysctl_net_core.c: proc_dointvec_minmax with extra1 = SYSCTL_ZERO.
    Knob{.name = "net.core.somaxconn",
         .kind = Kind::Int,
         .default_value = "4096",
         .min = 0,
         .max = INT_MAX,
         .help = "Upper limit on the listen() backlog",
         .sysctl = true},
    Knob{.name = "net.core.busy_read",
         .kind = Kind::Int,
         .default_value = "0",
         .min = 0,
         .max = INT_MAX,
         .help = "Microseconds a blocking socket call spins on the device for packets before "
                 "it sleeps (Linux's busy polling); 0: never",
         .sysctl = true},
    Knob{.name = "net.core.busy_poll",
         .kind = Kind::Int,
         .default_value = "0",
         .min = 0,
         .max = INT_MAX,
         .help = "Microseconds poll, select and epoll_wait spin on the device for packets "
                 "before they sleep, when they wait on veer sockets; 0: never",
         .sysctl = true},
    // Linux uses plain proc_dointvec here (no bounds at all); a negative queue
    // length has no meaning, so veer refuses it.
    Knob{.name = "net.ipv4.tcp_max_syn_backlog",
         .kind = Kind::Int,
         .default_value = "1024",
         .min = 0,
         .max = INT_MAX,
         .help = "Without SYN cookies, the last quarter of this many half-open requests "
                 "is kept for proven peers; the SYN queue itself holds the listen() backlog "
                 "(Linux's default scales with memory; 1024 here)",
         .sysctl = true},
    // proc_dointvec_minmax with extra1 = SYSCTL_ONE. Linux does not check the
    // order of the three values; veer does, since min > default or
    // default > max cannot mean anything.
    Knob{.name = "net.ipv4.tcp_syncookies",
         .kind = Kind::Int,
         .default_value = "1",
         .min = 0,
         .max = 2,
         .help = "SYN cookies: 0 never, 1 when a listener's SYN queue overflows, 2 always",
         .sysctl = true},
    Knob{.name = "net.ipv4.tcp_rmem",
         .kind = Kind::IntTriple,
         .default_value = "4096 131072 6291456",
         .min = 1,
         .max = INT_MAX,
         .help = "Receive buffer bytes per socket: min default max",
         .sysctl = true},
    Knob{.name = "net.ipv4.tcp_wmem",
         .kind = Kind::IntTriple,
         .default_value = "4096 16384 4194304",
         .min = 1,
         .max = INT_MAX,
         .help = "Send buffer bytes per socket: min default max",
         .sysctl = true},

    Knob{.name = "net.ipv4.tcp_keepalive_time",
         .kind = Kind::Int,
         .default_value = "7200",
         .min = 1,
         .max = kMaxJiffiesSeconds,
         .help = "Seconds a connection with SO_KEEPALIVE stays idle before the first probe",
         .sysctl = true},
    Knob{.name = "net.ipv4.tcp_keepalive_intvl",
         .kind = Kind::Int,
         .default_value = "75",
         .min = 1,
         .max = kMaxJiffiesSeconds,
         .help = "Seconds between keepalive probes",
         .sysctl = true},
    Knob{.name = "net.ipv4.tcp_keepalive_probes",
         .kind = Kind::Int,
         .default_value = "9",
         .min = 0,
         .max = 255,
         .help = "Unanswered keepalive probes before the connection is reset",
         .sysctl = true},
    Knob{.name = "net.ipv4.tcp_congestion_control",
         .kind = Kind::Enum,
         .default_value = "cubic",
         .choices = "cubic|reno",
         .help = "Congestion control for new connections (TCP_CONGESTION chooses per socket)",
         .sysctl = true},
    Knob{.name = "net.ipv4.tcp_recovery",
         .kind = Kind::Int,
         .default_value = "1",
         .min = 0,
         .max = INT_MAX,
         .help = "Loss detection: bit 1 RACK-TLP (RFC 8985); 0 falls back to three duplicate "
                 "ACKs",
         .sysctl = true},
    Knob{.name = "net.ipv4.tcp_early_retrans",
         .kind = Kind::Int,
         .default_value = "3",
         .min = 0,
         .max = 4,
         .help = "Tail loss probes: 3 and 4 enable them",
         .sysctl = true},
    Knob{.name = "net.ipv4.tcp_slow_start_after_idle",
         .kind = Kind::Int,
         .default_value = "1",
         .min = 0,
         .max = 255,
         .help = "Restart from the initial window after an idle RTO (RFC 2861); any non-zero "
                 "value enables it",
         .sysctl = true},
    Knob{.name = "net.ipv4.tcp_moderate_rcvbuf",
         .kind = Kind::Int,
         .default_value = "1",
         .min = 0,
         .max = 1,
         .help = "Grow a connection's receive buffer towards tcp_rmem[2] as the reader keeps up",
         .sysctl = true},
    Knob{.name = "net.ipv4.tcp_window_scaling",
         .kind = Kind::Int,
         .default_value = "1",
         .min = 0,
         .max = 255,
         .help = "Offer and accept window scaling (RFC 7323); any non-zero value enables it",
         .sysctl = true},
    Knob{.name = "net.ipv4.tcp_timestamps",
         .kind = Kind::Int,
         .default_value = "1",
         .min = 0,
         .max = 255,
         .help = "Timestamps (RFC 7323): 0 off, 1 on with a random offset per address pair, "
                 "any other value on without the offset",
         .sysctl = true},
    Knob{.name = "net.ipv4.tcp_sack",
         .kind = Kind::Int,
         .default_value = "1",
         .min = 0,
         .max = 255,
         .help = "Offer and accept selective acknowledgements (RFC 2018); any non-zero value "
                 "enables them",
         .sysctl = true},
    Knob{.name = "net.core.rmem_max",
         .kind = Kind::Int,
         .default_value = "4194304",
         .min = 2304,
         .max = INT_MAX,
         .help = "Largest SO_RCVBUF a program may set (4 MiB since Linux 6.x; was 212992); "
                 "with tcp_rmem[2] it sets the window scale offered",
         .sysctl = true},

    // net/core/sysctl_net_core.c: proc_douintvec_minmax, at least SOCK_MIN_SNDBUF
    // (2 * TCP_SKB_MIN_TRUESIZE on 64-bit).
    Knob{.name = "net.core.wmem_max",
         .kind = Kind::Int,
         .default_value = "4194304",
         .min = 4608,
         .max = INT_MAX,
         .help = "Largest SO_SNDBUF a program may set (4 MiB since Linux 6.18; was 212992)",
         .sysctl = true},
    // Linux 6.6 replaced the fixed ratio by one measured from the skbs a
    // connection receives (scaling_ratio, starting at 50 %); veer's buffers
    // hold payload only, so the fixed ratio stays (see README).
    Knob{.name = "net.ipv4.tcp_adv_win_scale",
         .kind = Kind::Int,
         .default_value = "1",
         .min = -31,
         .max = 31,
         .help = "Share of a receive buffer offered as window: buffer - buffer/2^n for n > 0, "
                 "buffer/2^-n otherwise (1: half)",
         .sysctl = true},
    Knob{.name = "net.ipv4.tcp_notsent_lowat",
         .kind = Kind::Int,
         .default_value = "4294967295",
         .min = 0,
         .max = 4294967295,
         .help = "A socket is writable while fewer bytes than this wait unsent "
                 "(TCP_NOTSENT_LOWAT sets it per socket)",
         .sysctl = true},
    // proc_dou8vec_minmax with extra1 = SYSCTL_ONE.
    Knob{.name = "net.ipv4.tcp_min_tso_segs",
         .kind = Kind::Int,
         .default_value = "2",
         .min = 1,
         .max = 255,
         .help = "Fewest segments in one TSO burst; a burst of two or more ends with PSH, as "
                 "Linux's GSO packets do",
         .sysctl = true},

    // --- veer's own settings --------------------------------------------------
    Knob{.name = "device",
         .kind = Kind::Device,
         .default_value = "tap:veer0",
         .help = "Network device the stack sends and receives frames on: tap:NAME, or "
                 "xdp:NAME[:QUEUE] for an AF_XDP socket on queue QUEUE (0) of NAME"},
    Knob{.name = "address",
         .kind = Kind::Ipv4Prefix,
         .default_value = "10.77.0.2/24",
         .help = "veer's own IPv4 address and subnet"},
    Knob{.name = "host_address",
         .kind = Kind::Ipv4Prefix,
         .default_value = "10.77.0.1/24",
         .help = "The kernel's address on the TAP device, set by `veer net up`"},
    Knob{.name = "gateway",
         .kind = Kind::Ipv4AddrOrNone,
         .default_value = "10.77.0.1",
         .help = "Next hop for destinations outside the subnet, or none"},
    Knob{.name = "routes",
         .kind = Kind::Ipv4PrefixList,
         .default_value = "",
         .help = "Networks reached through gateway whose connections veer serves (0.0.0.0/0: "
                 "every destination but loopback); empty: veer's own subnet only"},
    Knob{.name = "bridge",
         .kind = Kind::LinkName,
         .default_value = "",
         .help = "veer net up: put the TAP in this bridge, which holds host_address (several "
                 "veer processes, each on its own TAP, on one network); empty: no bridge"},
    Knob{.name = "mac",
         .kind = Kind::Mac,
         .default_value = "auto",
         .help = "veer's MAC address; auto is 02:00 followed by the four bytes of address"},
    Knob{.name = "mtu",
         .kind = Kind::Int,
         .default_value = "1500",
         .min = 576,
         .max = 9000,
         .help = "Link MTU in bytes"},
    Knob{.name = "tap_offload",
         .kind = Kind::Int,
         .default_value = "1",
         .min = 0,
         .max = 1,
         .help = "device = TAP: 1 opens it with IFF_VNET_HDR and checksum/TSO offloads (64 KB "
                 "frames each way, core's segments batched into TSO frames); 0: one frame per "
                 "segment"},
    Knob{.name = "tap_io_uring",
         .kind = Kind::Int,
         .default_value = "0",
         .min = 0,
         .max = 1,
         .help = "device = TAP: 1 moves frames through io_uring (reads kept queued, reaped in "
                 "bursts; writes submitted together); 0: one read()/write() per frame"},
    // Linux's per-device limit (ip link set DEV gso_max_segs N), GSO_MAX_SEGS at most.
    Knob{.name = "gso_max_segs",
         .kind = Kind::Int,
         .default_value = "65535",
         .min = 1,
         .max = 65535,
         .help = "Most segments in one send-buffer chunk and one TSO burst, as the link's "
                 "gso_max_segs limits Linux's skbs (1: one segment each, and no burst ends "
                 "with PSH)"},
    // include/net/tcp.h: L1_CACHE_ALIGN(128 + MAX_HEADER), MAX_HEADER being
    // LL_MAX_HEADER (32, 96 or 128) plus 48 with IP tunnels built in.
    Knob{.name = "max_tcp_header",
         .kind = Kind::Int,
         .default_value = "320",
         .min = 128,
         .max = 1024,
         .help = "MAX_TCP_HEADER of the Linux build whose buffers veer models: 320 on distribution "
                 "kernels (Debian's), 192 without Wi-Fi, Hyper-V and IP tunnels; it sizes the send "
                 "buffer's growth (tcp_sndbuf_expand) and each send chunk's overhead"},
    // Each chunk is 4 KiB; half receive (up to xdp_ring_size), the rest send.
    Knob{.name = "xdp_frames",
         .kind = Kind::Int,
         .default_value = "4096",
         .min = 64,
         .max = 262144,
         .help = "device = xdp: UMEM chunks of 4 KiB (a power of two; locked memory, see "
                 "RLIMIT_MEMLOCK)"},
    Knob{.name = "xdp_ring_size",
         .kind = Kind::Int,
         .default_value = "2048",
         .min = 64,
         .max = 65536,
         .help = "device = xdp: descriptors in each of the fill, completion, RX and TX rings "
                 "(a power of two)"},
    Knob{.name = "xdp_multi_buffer",
         .kind = Kind::Int,
         .default_value = "1",
         .min = 0,
         .max = 1,
         .help = "device = xdp: 1 takes frames over several UMEM chunks (XDP multi-buffer, MTU up "
                 "to 9000) where the kernel allows it, else one chunk per frame (MTU up to 3498); "
                 "0: one chunk per frame"},
    Knob{.name = "log",
         .kind = Kind::Enum,
         .default_value = "warn",
         .choices = "error|warn|info|debug|trace",
         .help = "Log level",
         .runtime = true},
    Knob{.name = "log_file",
         .kind = Kind::Path,
         .default_value = "",
         .help = "File to append the log to; empty means stderr"},
    Knob{.name = "exit_linger_ms",
         .kind = Kind::Int,
         .default_value = "2000",
         .min = 0,
         .max = 600000,
         .help = "At exit, how long to let unacknowledged data and FINs finish (the "
                 "kernel would carry on after the program; an in-process stack cannot)",
         .runtime = true},
    Knob{.name = "shared_arena_mb",
         .kind = Kind::Int,
         .default_value = "4096",
         .min = 16,
         .max = 65536,
         .help = "Address space reserved for the stack's shared memory (sockets and their "
                 "buffers, shared with forked children); pages are used only as touched"},
    Knob{.name = "capture",
         .kind = Kind::Path,
         .default_value = "",
         .help = "pcap file to write every Ethernet frame in and out to (tcpdump -r reads it); "
                 "empty: no capture",
         .runtime = true},
    // tcpdump's largest snap length (MAXIMUM_SNAPLEN); 14 keeps the
    // Ethernet header.
    Knob{.name = "capture_snaplen",
         .kind = Kind::Int,
         .default_value = "262144",
         .min = 14,
         .max = 262144,
         .help = "Bytes of each frame the capture keeps",
         .runtime = true},
    Knob{.name = "capture_rotate_mb",
         .kind = Kind::Int,
         .default_value = "0",
         .min = 0,
         .max = 1048576,
         .help = "Rotate the capture at this many MiB: FILE is renamed FILE.1 (an older FILE.1 "
                 "FILE.2, and so on) and a new FILE starts; 0: never",
         .runtime = true},
};
#pragma GCC diagnostic pop

// The part of a knob's name its environment variable is made of.
constexpr std::string_view env_suffix(const Knob& knob) {
  if (!knob.sysctl) return knob.name;
  return knob.name.substr(knob.name.rfind('.') + 1);
}

constexpr char upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

constexpr bool same_upper(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (upper(a[i]) != upper(b[i])) return false;
  }
  return true;
}

// Two knobs sharing a variable, or a knob named like a reserved variable,
// would make the environment ambiguous: refuse to compile instead.
constexpr bool env_names_unique() {
  for (size_t i = 0; i < kKnobs.size(); ++i) {
    for (size_t j = i + 1; j < kKnobs.size(); ++j) {
      if (same_upper(env_suffix(kKnobs[i]), env_suffix(kKnobs[j]))) return false;
    }
    for (std::string_view reserved : kReservedEnv) {
      if (same_upper(env_suffix(kKnobs[i]), reserved.substr(5))) return false;
    }
  }
  return true;
}
static_assert(env_names_unique(), "two knobs map to the same VEER_ environment variable");

// Names are lower-case words so that upper-casing them (the environment
// variable) loses nothing; help is one line so the README table stays a table.
constexpr bool names_and_help_well_formed() {
  for (const Knob& k : kKnobs) {
    if (k.name.empty()) return false;
    for (char c : k.name) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
      if (!ok) return false;
    }
    if (k.help.empty() || k.help.find('\n') != std::string_view::npos) return false;
    if (k.min > k.max) return false;
  }
  return true;
}
static_assert(names_and_help_well_formed(), "a knob's name, help or bounds is malformed");

}  // namespace

std::span<const Knob> knobs() {
  return kKnobs;
}

const Knob* find_knob(std::string_view name) {
  auto it =
      std::find_if(kKnobs.begin(), kKnobs.end(), [&](const Knob& k) { return k.name == name; });
  return it == kKnobs.end() ? nullptr : &*it;
}

const Knob* find_knob_by_env(std::string_view var) {
  constexpr std::string_view kPrefix = "VEER_";
  if (!var.starts_with(kPrefix)) return nullptr;
  std::string_view suffix = var.substr(kPrefix.size());
  for (const Knob& k : kKnobs) {
    std::string_view own = env_suffix(k);
    // Exact: VEER_tcp_syn_retries is not VEER_TCP_SYN_RETRIES.
    if (suffix.size() == own.size() && std::equal(own.begin(), own.end(), suffix.begin(),
                                                  [](char a, char b) { return upper(a) == b; })) {
      return &k;
    }
  }
  return nullptr;
}

bool settable_at_run_time(const Knob& knob) {
  return knob.sysctl || knob.runtime;
}

std::string env_name(const Knob& knob) {
  std::string name = "VEER_";
  for (char c : env_suffix(knob)) name += upper(c);
  return name;
}

std::string accepted_text(const Knob& knob) {
  auto range = [&] { return std::to_string(knob.min) + ".." + std::to_string(knob.max); };
  switch (knob.kind) {
    case Kind::Int:
      return range();
    case Kind::IntTriple:
      return "three integers min default max, each " + range() + ", non-decreasing";
    case Kind::PortRange:
      return "two ports low high, each " + range() + ", low <= high";
    case Kind::Ipv4Prefix:
      return "a unicast IPv4 address with a prefix length, e.g. 10.77.0.2/24";
    case Kind::Ipv4AddrOrNone:
      return "a unicast IPv4 address, or none";
    case Kind::Mac:
      return "auto, or a unicast MAC address aa:bb:cc:dd:ee:ff";
    case Kind::Device:
      return "tap:NAME or xdp:NAME[:QUEUE], NAME 1..15 characters of A-Z a-z 0-9 _ . -, QUEUE "
             "0.." +
             std::to_string(kMaxXdpQueue);
    case Kind::Ipv4PrefixList:
      return "empty, or networks a.b.c.d/n separated by spaces or commas";
    case Kind::LinkName:
      return "empty, or 1..15 characters of A-Z a-z 0-9 _ . -";
    case Kind::Enum:
      return std::string(knob.choices);
    case Kind::Path:
      return "a file path, or empty";
    case Kind::String:
      return "any text";
  }
  return {};
}

bool is_reserved_env(std::string_view var) {
  return std::find(kReservedEnv.begin(), kReservedEnv.end(), var) != kReservedEnv.end();
}

}  // namespace veer::config
