// veer's XDP program: frames for veer's IPv4 address (and ARP about it) go to
// the AF_XDP socket bound to the receiving queue; everything else goes on to
// the kernel. libxdp's default program would redirect every frame and cut
// the kernel's own traffic on the interface off.
//
// The address comes from user space through the one-entry map veer_addr
// (network byte order), written after the program is loaded; until then it is
// 0 and every frame passes. The entry also names the process that attached
// the program, so a later veer can tell a program left by a dead process
// (removed) from one in use (EBUSY).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>

// After the kernel's types, which the helper declarations use.
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_XSKMAP);
  __uint(max_entries, 64);
  __type(key, __u32);
  __type(value, __u32);
} veer_xsks SEC(".maps");

// Shared with netdev/xdp_device.cpp (VeerAddrEntry).
struct veer_addr_entry {
  __be32 addr;
  __u32 owner_pid;
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct veer_addr_entry);
} veer_addr SEC(".maps");

// RFC 826 over Ethernet with IPv4 addresses: the fixed-size part.
struct arp_ipv4 {
  __be16 htype, ptype;
  __u8 hlen, plen;
  __be16 oper;
  __u8 sha[ETH_ALEN];
  __be32 spa;
  __u8 tha[ETH_ALEN];
  __be32 tpa;
} __attribute__((packed));

SEC("xdp")
int veer_xdp(struct xdp_md* ctx) {
  void* data = (void*)(long)ctx->data;
  void* data_end = (void*)(long)ctx->data_end;
  struct ethhdr* eth = data;
  if ((void*)(eth + 1) > data_end) return XDP_PASS;

  __u32 zero = 0;
  struct veer_addr_entry* ours = bpf_map_lookup_elem(&veer_addr, &zero);
  if (!ours || ours->addr == 0) return XDP_PASS;

  __be32 target;
  if (eth->h_proto == bpf_htons(ETH_P_IP)) {
    struct iphdr* ip = (void*)(eth + 1);
    if ((void*)(ip + 1) > data_end) return XDP_PASS;
    target = ip->daddr;
  } else if (eth->h_proto == bpf_htons(ETH_P_ARP)) {
    struct arp_ipv4* arp = (void*)(eth + 1);
    if ((void*)(arp + 1) > data_end) return XDP_PASS;
    target = arp->tpa;
  } else {
    return XDP_PASS;
  }
  if (target != ours->addr) return XDP_PASS;
  // No socket on this queue: the kernel gets the frame (the last argument).
  return bpf_redirect_map(&veer_xsks, ctx->rx_queue_index, XDP_PASS);
}

char _license[] SEC("license") = "GPL";
