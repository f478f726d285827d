// Draws a TimeSequence with cairo, as a PNG or SVG file.
#pragma once

#include <string>
#include <vector>

#include "tools/plot/time_sequence.h"

namespace veer::plot {

enum class ImageFormat { Png, Svg };

struct PlotStyle {
  int width = 1000;  // pixels (SVG: points)
  int height = 650;
  std::string title;     // first line above the graph
  std::string subtitle;  // second line, smaller
};

// Writes the graph to `path`; false with *error set when cairo could not.
bool render_time_sequence(const TimeSequence& ts, const PlotStyle& style, ImageFormat format,
                          const std::string& path, std::string* error);

// Axis ticks: multiples of 1, 2 or 5 × 10^k covering [lo, hi], at most
// about `target` of them (the ones inside the range).
std::vector<double> nice_ticks(double lo, double hi, int target);

}  // namespace veer::plot
