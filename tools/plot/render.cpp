#include "tools/plot/render.h"

#include <cairo-svg.h>
#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

// fontconfig, which cairo asks for the font, keeps its configuration for the
// life of the process; LeakSanitizer should not call that a leak.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libfontconfig.so\n";
}

namespace veer::plot {
namespace {

using namespace wire::tcpflag;

struct Rgb {
  double r, g, b;
};
// tcptrace's colours where it has them, darker where white paper needs it.
constexpr Rgb kData{0.05, 0.05, 0.05};
constexpr Rgb kRetransmit{0.85, 0.05, 0.05};
constexpr Rgb kAckLine{0.0, 0.6, 0.0};
constexpr Rgb kWindowLine{0.85, 0.65, 0.0};
constexpr Rgb kSack{0.55, 0.15, 0.75};
constexpr Rgb kFlag{0.1, 0.3, 0.85};
constexpr Rgb kGrid{0.88, 0.88, 0.88};
constexpr Rgb kAxis{0.3, 0.3, 0.3};

constexpr double kLeft = 90, kRight = 25, kTop = 64, kBottom = 56;

void set(cairo_t* cr, Rgb c) {
  cairo_set_source_rgb(cr, c.r, c.g, c.b);
}

// Data coordinates to the page.
struct Frame {
  double x0, x1, y0, y1;            // data range shown
  double left, top, width, height;  // plot area
  double x(double t) const { return left + (t - x0) / (x1 - x0) * width; }
  double y(double s) const { return top + height - (s - y0) / (y1 - y0) * height; }
};

std::string format_tick(double v, double step) {
  int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

void text_at(cairo_t* cr, double x, double y, const std::string& s, double align_x,
             double align_y) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  cairo_move_to(cr, x - e.width * align_x - e.x_bearing, y - e.height * align_y - e.y_bearing);
  cairo_show_text(cr, s.c_str());
}

void draw_axes(cairo_t* cr, const Frame& f) {
  cairo_set_line_width(cr, 1);
  cairo_set_font_size(cr, 11);
  std::vector<double> xt = nice_ticks(f.x0, f.x1, 10), yt = nice_ticks(f.y0, f.y1, 8);
  double xstep = xt.size() > 1 ? xt[1] - xt[0] : 1, ystep = yt.size() > 1 ? yt[1] - yt[0] : 1;
  for (double t : xt) {
    set(cr, kGrid);
    cairo_move_to(cr, std::round(f.x(t)) + 0.5, f.top);
    cairo_line_to(cr, std::round(f.x(t)) + 0.5, f.top + f.height);
    cairo_stroke(cr);
    set(cr, kAxis);
    text_at(cr, f.x(t), f.top + f.height + 6, format_tick(t, xstep), 0.5, 0);
  }
  for (double s : yt) {
    set(cr, kGrid);
    cairo_move_to(cr, f.left, std::round(f.y(s)) + 0.5);
    cairo_line_to(cr, f.left + f.width, std::round(f.y(s)) + 0.5);
    cairo_stroke(cr);
    set(cr, kAxis);
    text_at(cr, f.left - 6, f.y(s), format_tick(s, ystep), 1, 0.5);
  }
  set(cr, kAxis);
  cairo_rectangle(cr, f.left + 0.5, f.top + 0.5, f.width, f.height);
  cairo_stroke(cr);
  cairo_set_font_size(cr, 12);
  text_at(cr, f.left + f.width / 2, f.top + f.height + 26, "time (s)", 0.5, 0);
  cairo_save(cr);
  cairo_translate(cr, 16, f.top + f.height / 2);
  cairo_rotate(cr, -M_PI / 2);
  text_at(cr, 0, 0, "relative sequence number (bytes)", 0.5, 0.5);
  cairo_restore(cr);
}

// A segment as tcptrace draws it: a vertical bar with short caps.
void draw_bars(cairo_t* cr, const Frame& f, const std::vector<SeqRange>& ranges, Rgb colour,
               double width, double cap, double dx) {
  set(cr, colour);
  cairo_set_line_width(cr, width);
  for (const SeqRange& r : ranges) {
    double x = f.x(r.time) + dx, top = f.y(double(r.end)), bottom = f.y(double(r.begin));
    cairo_move_to(cr, x, bottom);
    cairo_line_to(cr, x, top);
    cairo_move_to(cr, x - cap, top);
    cairo_line_to(cr, x + cap, top);
    cairo_move_to(cr, x - cap, bottom);
    cairo_line_to(cr, x + cap, bottom);
  }
  cairo_stroke(cr);
}

// ACK and window as step lines: a value holds until the next one.
void draw_steps(cairo_t* cr, const Frame& f, const std::vector<SeqPoint>& points, Rgb colour) {
  if (points.empty()) return;
  set(cr, colour);
  cairo_set_line_width(cr, 1.2);
  cairo_move_to(cr, f.x(points[0].time), f.y(double(points[0].seq)));
  for (size_t i = 1; i < points.size(); ++i) {
    cairo_line_to(cr, f.x(points[i].time), f.y(double(points[i - 1].seq)));
    cairo_line_to(cr, f.x(points[i].time), f.y(double(points[i].seq)));
  }
  cairo_stroke(cr);
}

void draw_flags(cairo_t* cr, const Frame& f, const std::vector<FlagMark>& flags) {
  cairo_set_font_size(cr, 10);
  for (const FlagMark& m : flags) {
    const char* name = m.flag == kSyn ? "SYN" : m.flag == kFin ? "FIN" : "RST";
    set(cr, m.flag == kRst || m.repeated ? kRetransmit : m.from_sender ? kFlag : kAckLine);
    double x = f.x(m.time), y = f.y(double(m.seq));
    cairo_arc(cr, x, y, 3, 0, 2 * M_PI);
    cairo_fill(cr);
    // The sender's flags above the point, the receiver's below.
    text_at(cr, x + 4, m.from_sender ? y - 4 : y + 4, name, 0, m.from_sender ? 1 : 0);
  }
}

void draw_legend(cairo_t* cr, const Frame& f) {
  struct Entry {
    const char* name;
    Rgb colour;
  };
  const Entry entries[] = {{"data", kData},   {"retransmission", kRetransmit},
                           {"ACK", kAckLine}, {"receive window", kWindowLine},
                           {"SACK", kSack},   {"SYN/FIN/RST", kFlag}};
  cairo_set_font_size(cr, 11);
  double x = f.left + f.width;
  // Right-aligned: lay out from the last entry leftwards.
  for (auto it = std::rbegin(entries); it != std::rend(entries); ++it) {
    cairo_text_extents_t e;
    cairo_text_extents(cr, it->name, &e);
    x -= e.x_advance;
    set(cr, kAxis);
    text_at(cr, x, f.top - 8, it->name, 0, 1);
    x -= 18;
    set(cr, it->colour);
    cairo_set_line_width(cr, 3);
    cairo_move_to(cr, x, f.top - 13);
    cairo_line_to(cr, x + 13, f.top - 13);
    cairo_stroke(cr);
    x -= 14;
  }
}

void draw(cairo_t* cr, const TimeSequence& ts, const PlotStyle& style) {
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);

  double lo = 0, hi = 1;
  auto cover = [&](int64_t v) {
    lo = std::min(lo, double(v));
    hi = std::max(hi, double(v));
  };
  for (const auto* v : {&ts.sent, &ts.retransmitted, &ts.sacks})
    for (const SeqRange& r : *v) cover(r.begin), cover(r.end);
  for (const SeqPoint& p : ts.acks) cover(p.seq);
  for (const FlagMark& m : ts.flags) cover(m.seq);
  // The window line shows up to a quarter above the data: where it is far
  // above, it limits nothing, and a full-height window would squash the data.
  double data_hi = hi;
  for (const SeqPoint& p : ts.window) cover(p.seq);
  if (data_hi > 1) hi = std::min(hi, data_hi + (data_hi - lo) * 0.25);
  double t1 = std::max(ts.duration, 1e-3);
  double ypad = (hi - lo) * 0.04, xpad = t1 * 0.02;
  Frame f{-xpad,
          t1 + xpad,
          lo - ypad,
          hi + ypad,
          kLeft,
          kTop,
          std::max(10.0, style.width - kLeft - kRight),
          std::max(10.0, style.height - kTop - kBottom)};

  set(cr, kAxis);
  cairo_set_font_size(cr, 14);
  text_at(cr, f.left, 8, style.title, 0, 0);
  cairo_set_font_size(cr, 11);
  text_at(cr, f.left, 28, style.subtitle, 0, 0);
  draw_axes(cr, f);
  draw_legend(cr, f);

  cairo_save(cr);
  cairo_rectangle(cr, f.left, f.top, f.width, f.height);
  cairo_clip(cr);
  draw_steps(cr, f, ts.window, kWindowLine);
  draw_steps(cr, f, ts.acks, kAckLine);
  draw_bars(cr, f, ts.sacks, kSack, 1.5, 2, 3);
  draw_bars(cr, f, ts.sent, kData, 1, 2, 0);
  draw_bars(cr, f, ts.retransmitted, kRetransmit, 2, 3.5, 0);
  draw_flags(cr, f, ts.flags);
  cairo_restore(cr);
}

// Draws on a fresh context of `surface`; cairo's first error, if any.
cairo_status_t draw_on(cairo_surface_t* surface, const TimeSequence& ts, const PlotStyle& style) {
  cairo_t* cr = cairo_create(surface);
  draw(cr, ts, style);
  cairo_status_t st = cairo_status(cr);
  cairo_destroy(cr);
  return st;
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
  std::vector<double> out;
  if (!(hi > lo) || target < 1 || !std::isfinite(lo) || !std::isfinite(hi)) return out;
  double raw = (hi - lo) / target;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  for (double k = std::ceil(lo / step); k * step <= hi + step * 1e-9; k += 1) {
    double v = k * step;
    out.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  }
  return out;
}

bool render_time_sequence(const TimeSequence& ts, const PlotStyle& style, ImageFormat format,
                          const std::string& path, std::string* error) {
  cairo_surface_t* surface =
      format == ImageFormat::Svg
          ? cairo_svg_surface_create(path.c_str(), style.width, style.height)
          : cairo_image_surface_create(CAIRO_FORMAT_RGB24, style.width, style.height);
  cairo_status_t st = cairo_surface_status(surface);
  if (st == CAIRO_STATUS_SUCCESS) st = draw_on(surface, ts, style);
  if (st == CAIRO_STATUS_SUCCESS) {
    if (format == ImageFormat::Svg) {
      cairo_surface_finish(surface);  // writes the rest of the file
      st = cairo_surface_status(surface);
    } else {
      st = cairo_surface_write_to_png(surface, path.c_str());
    }
  }
  cairo_surface_destroy(surface);
  if (st != CAIRO_STATUS_SUCCESS) *error = path + ": " + cairo_status_to_string(st);
  return st == CAIRO_STATUS_SUCCESS;
}

}  // namespace veer::plot
