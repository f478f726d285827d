// Reading capture files: what is decoded, passed over, kept or skipped.
#include "tools/plot/capture.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "core/wire/bytes.h"
#include "tests/unit/plot/pcap_writer.h"

namespace veer::test {
namespace {

using namespace wire::tcpflag;

constexpr size_t kIpOff = 14;            // Ethernet header
constexpr size_t kTcpOff = kIpOff + 20;  // IPv4 header without options

Frame data_segment(size_t len = 100) {
  return tcp_frame(kClient, kServer, header(kAck, 1, 1, 100), len);
}

TEST(Capture, MalformedFramesAreCountedAndSkippedOthersPassedOver) {
  PcapWriter w;
  Frame good = data_segment();
  w.add(0, good);
  w.add(1, Frame(10));  // shorter than an Ethernet header
  Frame bad_version = good;
  bad_version[kIpOff] = std::byte{0x65};
  w.add(2, bad_version);
  Frame bad_ip_sum = good;
  bad_ip_sum[kIpOff + 8] = std::byte{1};  // TTL changed, checksum not
  w.add(3, bad_ip_sum);
  Frame long_total = good;
  wire::store16(long_total.data() + kIpOff + 2, 2000);  // more than the frame holds
  wire::store16(long_total.data() + kIpOff + 10, 0);
  w.add(4, long_total);
  Frame bad_offset = good;
  bad_offset[kTcpOff + 12] = std::byte{0x40};  // 16 bytes: less than the fixed header
  w.add(5, bad_offset);
  Frame short_tcp(good.begin(), good.begin() + kTcpOff + 10);
  wire::store16(short_tcp.data() + kIpOff + 2, 30);
  w.add(6, short_tcp);
  Frame bad_option = tcp_frame(kClient, kServer, header(kAck, 1, 1, 100));
  bad_option.resize(bad_option.size() + 4);  // room for one option word
  bad_option[kTcpOff + 12] = std::byte{0x60};
  bad_option[kTcpOff + 20] = std::byte{2};  // MSS with length 9
  bad_option[kTcpOff + 21] = std::byte{9};
  wire::store16(bad_option.data() + kIpOff + 2, 44);
  w.add(7, bad_option);
  Frame arp(42);
  wire::store16(arp.data() + 12, 0x0806);
  w.add(8, arp);
  Frame udp = good;
  udp[kIpOff + 9] = std::byte{17};
  w.add(9, udp);  // the IPv4 checksum no longer holds either: malformed
  Frame bad_tcp_sum = good;
  bad_tcp_sum[kTcpOff + 16] ^= std::byte{0xff};
  w.add(10, bad_tcp_sum);
  w.add(11, good);

  std::string error;
  auto cap = plot::read_capture(w.finish(), &error);
  ASSERT_TRUE(cap) << error;
  EXPECT_EQ(cap->stats.frames, 12u);
  EXPECT_EQ(cap->stats.tcp, 3u);
  EXPECT_EQ(cap->stats.other, 1u);  // ARP
  // Short, version, IP sum, total length, data offset, TCP short, option, UDP.
  EXPECT_EQ(cap->stats.malformed, 8u);
  EXPECT_EQ(cap->stats.bad_checksum, 1u) << "kept: offload leaves partial sums";
  ASSERT_EQ(cap->segments.size(), 3u);
  EXPECT_EQ(cap->segments[1].payload_len, 100u);
  EXPECT_DOUBLE_EQ(cap->segments[2].time, 1000.000011);
}

TEST(Capture, SnapLengthCutKeepsTheSegmentWithItsLengthFromIpv4) {
  PcapWriter w;
  Frame full = data_segment(1000);
  Frame cut(full.begin(), full.begin() + 64);
  w.add(0, cut, static_cast<uint32_t>(full.size()));
  Frame headers_cut(full.begin(), full.begin() + kTcpOff + 8);  // TCP header cut
  w.add(1, headers_cut, static_cast<uint32_t>(full.size()));
  std::string error;
  auto cap = plot::read_capture(w.finish(), &error);
  ASSERT_TRUE(cap) << error;
  EXPECT_EQ(cap->stats.tcp, 1u);
  EXPECT_EQ(cap->stats.snap_cut, 1u);
  EXPECT_EQ(cap->stats.malformed, 1u);
  ASSERT_EQ(cap->segments.size(), 1u);
  EXPECT_EQ(cap->segments[0].payload_len, 1000u);
  EXPECT_EQ(cap->stats.bad_checksum, 0u) << "not checked on what was not captured";
}

TEST(Capture, AFileCutMidRecordKeepsWhatCameBefore) {
  PcapWriter w;
  w.add(0, data_segment());
  w.add(1, data_segment());
  std::string path = w.finish();
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GT(bytes.size(), 60u);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() - 50);
  std::string error;
  auto cap = plot::read_capture(path, &error);
  ASSERT_TRUE(cap) << error;
  EXPECT_EQ(cap->stats.tcp, 1u);
  EXPECT_EQ(cap->stats.malformed, 1u);
}

TEST(Capture, RawIpAndLinuxCookedLinkTypes) {
  Frame eth = data_segment(7);
  PcapWriter raw(plot::kLinkRaw);
  raw.add(0, Frame(eth.begin() + kIpOff, eth.end()));
  std::string error;
  auto cap = plot::read_capture(raw.finish(), &error);
  ASSERT_TRUE(cap) << error;
  ASSERT_EQ(cap->segments.size(), 1u);
  EXPECT_EQ(cap->segments[0].payload_len, 7u);

  PcapWriter sll(plot::kLinkLinuxSll);
  Frame cooked(16 + eth.size() - kIpOff);
  wire::store16(cooked.data() + 14, 0x0800);
  std::copy(eth.begin() + kIpOff, eth.end(), cooked.begin() + 16);
  sll.add(0, cooked);
  cap = plot::read_capture(sll.finish(), &error);
  ASSERT_TRUE(cap) << error;
  ASSERT_EQ(cap->segments.size(), 1u);
  EXPECT_EQ(cap->segments[0].src, kClient.addr);
}

TEST(Capture, UnreadableFilesAndUnsupportedLinkTypesSayWhy) {
  std::string error;
  EXPECT_FALSE(plot::read_capture("/nonexistent/x.pcap", &error));
  EXPECT_NE(error.find("No such file"), std::string::npos) << error;
  PcapWriter wifi(DLT_IEEE802_11);
  EXPECT_FALSE(plot::read_capture(wifi.finish(), &error));
  EXPECT_NE(error.find("is not supported"), std::string::npos) << error;
  std::string text = ::testing::TempDir() + "veer-plot-not-a-pcap";
  std::ofstream(text) << "hello, this is not a capture file at all\n";
  EXPECT_FALSE(plot::read_capture(text, &error));
  EXPECT_FALSE(error.empty());
  ::unlink(text.c_str());
}

}  // namespace
}  // namespace veer::test
