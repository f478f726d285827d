// The drawing: files cairo wrote are real PNG/SVG files, and ticks are round.
#include "tools/plot/render.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace veer::test {
namespace {

plot::TimeSequence small_series() {
  plot::TimeSequence ts;
  ts.sent = {{0.01, 1, 1449}, {0.011, 1449, 2897}};
  ts.retransmitted = {{0.3, 1449, 2897}};
  ts.acks = {{0.0, 1}, {0.02, 1449}, {0.31, 2897}};
  ts.window = {{0.0, 65536}, {0.02, 66984}, {0.31, 68432}};
  ts.sacks = {{0.021, 1449, 2897}};
  ts.flags = {{0, 0, wire::tcpflag::kSyn, true, false}};
  ts.duration = 0.31;
  return ts;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(Render, WritesPngAndSvg) {
  std::string base = ::testing::TempDir() + "veer-plot-render-" + std::to_string(getpid());
  std::string error;
  plot::PlotStyle style{.width = 400, .height = 300, .title = "a > b", .subtitle = "test"};
  ASSERT_TRUE(plot::render_time_sequence(small_series(), style, plot::ImageFormat::Png,
                                         base + ".png", &error))
      << error;
  std::string png = slurp(base + ".png");
  EXPECT_EQ(png.substr(0, 8), "\x89PNG\r\n\x1a\n");
  ASSERT_TRUE(plot::render_time_sequence(small_series(), style, plot::ImageFormat::Svg,
                                         base + ".svg", &error))
      << error;
  std::string svg = slurp(base + ".svg");
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  ::unlink((base + ".png").c_str());
  ::unlink((base + ".svg").c_str());
  // An empty series (a capture of one SYN) still draws.
  ASSERT_TRUE(plot::render_time_sequence({}, style, plot::ImageFormat::Png, base + ".png", &error));
  ::unlink((base + ".png").c_str());
  EXPECT_FALSE(plot::render_time_sequence(small_series(), style, plot::ImageFormat::Png,
                                          "/nonexistent/dir/x.png", &error));
  EXPECT_NE(error.find("/nonexistent/dir/x.png"), std::string::npos);
}

TEST(Render, NiceTicksAreOneTwoFiveTimesAPowerOfTen) {
  EXPECT_EQ(plot::nice_ticks(0, 1, 5),
            (std::vector<double>{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}));
  EXPECT_EQ(plot::nice_ticks(-30, 1048576, 8),
            (std::vector<double>{0, 200000, 400000, 600000, 800000, 1000000}));
  EXPECT_EQ(plot::nice_ticks(3, 47, 4), (std::vector<double>{20, 40})) << "step 11 rounds up to 20";
  EXPECT_TRUE(plot::nice_ticks(5, 5, 4).empty());
}

}  // namespace
}  // namespace veer::test
