#include "netdev/pcap_writer.h"

#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace veer::netdev {
namespace {

struct PcapWriterTest : ::testing::Test {
  void SetUp() override {
    char tmpl[] = "/tmp/veer-pcap-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir = tmpl;
  }
  void TearDown() override { (void)std::system(("rm -rf " + dir).c_str()); }

  // (caplen, len, first byte, ts in us) of every frame of `path`, as libpcap reads it.
  struct Frame {
    uint32_t caplen, len;
    uint8_t first;
    int64_t us;
  };
  std::vector<Frame> read(const std::string& path, int* snaplen = nullptr) {
    char err[PCAP_ERRBUF_SIZE];
    pcap_t* p = pcap_open_offline(path.c_str(), err);
    EXPECT_NE(p, nullptr) << err;
    std::vector<Frame> out;
    if (!p) return out;
    EXPECT_EQ(pcap_datalink(p), DLT_EN10MB);
    if (snaplen) *snaplen = pcap_snapshot(p);
    pcap_pkthdr* h;
    const u_char* data;
    while (pcap_next_ex(p, &h, &data) == 1)
      out.push_back({h->caplen, h->len, data[0], int64_t(h->ts.tv_sec) * 1000000 + h->ts.tv_usec});
    pcap_close(p);
    return out;
  }

  std::vector<std::byte> frame(size_t n, uint8_t first) {
    std::vector<std::byte> f(n, std::byte{0});
    f[0] = std::byte{first};
    return f;
  }

  std::string dir;
};

TEST_F(PcapWriterTest, FramesAreReadBackWithTimesAndSnapLength) {
  std::string error;
  auto w = PcapWriter::open({dir + "/a.pcap", 100, 0}, &error);
  ASSERT_TRUE(w) << error;
  EXPECT_GE(w->fd(), 0);
  w->write(frame(60, 1), 1'700'000'000'123'456'789);
  w->write(frame(1514, 2), 1'700'000'001'000'000'000);
  w->flush();
  int snaplen = 0;
  auto frames = read(dir + "/a.pcap", &snaplen);
  EXPECT_EQ(snaplen, 100);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].caplen, 60u);
  EXPECT_EQ(frames[0].len, 60u);
  EXPECT_EQ(frames[0].first, 1);
  EXPECT_EQ(frames[0].us, 1'700'000'000'123'456);
  EXPECT_EQ(frames[1].caplen, 100u);  // cut at the snap length
  EXPECT_EQ(frames[1].len, 1514u);    // the length on the wire stays
  EXPECT_EQ(w->frames(), 2u);
  EXPECT_TRUE(w->error().empty());
}

TEST_F(PcapWriterTest, RotatesLikeLogrotate) {
  std::string error;
  std::string base = dir + "/r.pcap";
  // A 24-byte file header + 16 + 1000 per frame: the third frame crosses 2 KB.
  auto w = PcapWriter::open({base, 262144, 2048}, &error);
  ASSERT_TRUE(w) << error;
  for (uint8_t i = 1; i <= 7; ++i) w->write(frame(1000, i), int64_t(i) * 1'000'000'000);
  w.reset();
  // Oldest last: FILE.2 holds frames 1-2, FILE.1 3-4, ... FILE the newest.
  auto firsts = [&](const std::string& path) {
    std::vector<int> out;
    for (const Frame& f : read(path)) out.push_back(f.first);
    return out;
  };
  EXPECT_EQ(firsts(base + ".3"), (std::vector<int>{1, 2}));
  EXPECT_EQ(firsts(base + ".2"), (std::vector<int>{3, 4}));
  EXPECT_EQ(firsts(base + ".1"), (std::vector<int>{5, 6}));
  EXPECT_EQ(firsts(base), (std::vector<int>{7}));
  struct stat st {};
  EXPECT_NE(::stat((base + ".4").c_str(), &st), 0);
}

TEST_F(PcapWriterTest, AnAbandonedCopyWritesNothingMore) {
  // What a forked child does with its copy: the frames buffered before the
  // fork are the parent's to write.
  std::string error;
  auto w = PcapWriter::open({dir + "/f.pcap", 262144, 0}, &error);
  ASSERT_TRUE(w) << error;
  w->flush();  // the file header
  w->write(frame(60, 1), 0);
  w->abandon();
  EXPECT_EQ(w->fd(), -1);
  w->write(frame(60, 2), 0);  // ignored
  EXPECT_TRUE(read(dir + "/f.pcap").empty());
}

TEST_F(PcapWriterTest, AFileThatCannotBeMadeIsAnError) {
  std::string error;
  EXPECT_FALSE(PcapWriter::open({dir + "/no/such/dir.pcap", 262144, 0}, &error));
  EXPECT_EQ(error, dir + "/no/such/dir.pcap: No such file or directory");
}

}  // namespace
}  // namespace veer::netdev
