// `veer plot`: a time-sequence graph (tcptrace's, Stevens') of one TCP
// connection in a pcap file, as PNG or SVG. The analysis is in
// tools/plot/time_sequence.h, the drawing in tools/plot/render.h.
#include <charconv>
#include <cstdio>
#include <string>

#include "tools/command.h"
#include "tools/plot/render.h"
#include "tools/plot/time_sequence.h"

namespace veer::tools {
namespace {

constexpr std::string_view kName = "plot";

struct Request {
  std::string capture;
  std::string output;
  plot::Selection selection;
  plot::PlotStyle style;
  bool list = false;
};

template <typename T>
bool parse_number(std::string_view s, T lo, T hi, T* out) {
  T v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi) return false;
  *out = v;
  return true;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::optional<int> parse(std::span<char* const> args, Request& r) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (is_help_flag(arg)) return show_usage(kPlotCommand);
    auto value = [&](std::string_view* v) {
      if (i + 1 >= args.size()) return false;
      *v = args[++i];
      return true;
    };
    std::string_view v;
    if (arg == "--list" || arg == "-l") {
      r.list = true;
    } else if (arg == "--reverse") {
      r.selection.reverse = true;
    } else if (arg == "-o" || arg == "--output") {
      if (!value(&v)) return usage_error(kName, std::string(arg) + " needs a file name");
      r.output = v;
    } else if (arg == "--conn") {
      int n = 0;
      if (!value(&v) || !parse_number(v, 1, 1 << 30, &n))
        return usage_error(kName, "--conn needs a connection number (1, 2, … as --list shows)");
      r.selection.number = n;
    } else if (arg == "--port") {
      uint16_t p = 0;
      if (!value(&v) || !parse_number<uint16_t>(v, 1, 65535, &p))
        return usage_error(kName, "--port needs a port number (1..65535)");
      r.selection.port = p;
    } else if (arg == "--width" || arg == "--height") {
      int n = 0;
      if (!value(&v) || !parse_number(v, 200, 10000, &n))
        return usage_error(kName, std::string(arg) + " needs a size in pixels (200..10000)");
      (arg == "--width" ? r.style.width : r.style.height) = n;
    } else if (!arg.empty() && arg[0] == '-') {
      return usage_error(kName, "unknown option " + std::string(arg));
    } else if (r.capture.empty()) {
      r.capture = arg;
    } else {
      return usage_error(kName, "unexpected '" + std::string(arg) + "' (one capture file)");
    }
  }
  if (r.capture.empty()) return usage_error(kName, "needs a capture file (FILE.pcap)");
  if (r.selection.number && r.selection.port)
    return usage_error(kName, "--conn and --port cannot be combined");
  if (!r.list && r.output.empty())
    return usage_error(kName, "needs -o OUT.png or -o OUT.svg (or --list)");
  if (!r.output.empty() && !ends_with(r.output, ".png") && !ends_with(r.output, ".svg"))
    return usage_error(kName, "the output file must end in .png or .svg, got '" + r.output + "'");
  return std::nullopt;
}

std::string skipped(const plot::CaptureStats& s) {
  std::string out;
  if (s.malformed) out += ", " + std::to_string(s.malformed) + " malformed frames skipped";
  if (s.snap_cut) out += ", " + std::to_string(s.snap_cut) + " cut by the snap length";
  return out;
}

void print_list(const std::vector<plot::Connection>& conns) {
  std::printf("%4s  %-21s  %-21s  %8s  %10s  %10s  %9s\n", "conn", "client", "server", "segments",
              "bytes c>s", "bytes s>c", "seconds");
  for (const plot::Connection& c : conns) {
    std::printf("%4d  %-21s  %-21s  %8llu  %10llu  %10llu  %9.3f\n", c.number,
                c.client.to_string().c_str(), c.server.to_string().c_str(),
                static_cast<unsigned long long>(c.segments),
                static_cast<unsigned long long>(c.bytes_to_server),
                static_cast<unsigned long long>(c.bytes_to_client), c.last_time - c.first_time);
  }
}

std::string describe(const plot::TimeSequence& ts, const plot::Connection& c, size_t count) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "connection %d of %zu, %llu bytes in %.3f s, %zu segments retransmitted, %zu SACK "
                "blocks, ",
                c.number, count, static_cast<unsigned long long>(ts.unique_bytes), ts.duration,
                ts.retransmitted.size(), ts.sacks.size());
  std::string s = buf;
  if (!ts.handshake_seen) {
    s += "handshake not captured: windows unscaled";
  } else if (ts.sender_wscale && ts.receiver_wscale) {
    s += "window scale " + std::to_string(*ts.sender_wscale) + "/" +
         std::to_string(*ts.receiver_wscale);
  } else {
    s += "no window scaling";
  }
  return s;
}

int run(std::span<char* const> args) {
  Request r;
  if (auto code = parse(args, r)) return *code;
  std::string error;
  auto capture = plot::read_capture(r.capture, &error);
  if (!capture) return fail(kName, r.capture + ": " + error, kExitFailure);
  std::vector<plot::Connection> conns = plot::find_connections(*capture);
  if (r.list) {
    print_list(conns);
    if (!skipped(capture->stats).empty())
      std::fprintf(stderr, "veer plot: %s%s\n", r.capture.c_str(), skipped(capture->stats).c_str());
    if (r.output.empty()) return conns.empty() ? kExitFailure : kExitOk;
  }
  auto choice = plot::choose_connection(conns, r.selection, &error);
  if (!choice) {
    return fail(kName,
                r.capture + ": " + error + " (" + std::to_string(capture->stats.frames) +
                    " frames" + skipped(capture->stats) + ")",
                kExitFailure);
  }
  const plot::Connection& c = conns[choice->index];
  plot::TimeSequence ts = plot::time_sequence(*capture, c, choice->from_client);
  r.style.title = ts.sender.to_string() + " > " + ts.receiver.to_string();
  r.style.subtitle = describe(ts, c, conns.size());
  auto format = ends_with(r.output, ".svg") ? plot::ImageFormat::Svg : plot::ImageFormat::Png;
  if (!plot::render_time_sequence(ts, r.style, format, r.output, &error))
    return fail(kName, "cannot write " + error, kExitFailure);
  std::printf("%s: %s > %s, %s%s\n", r.output.c_str(), ts.sender.to_string().c_str(),
              ts.receiver.to_string().c_str(), r.style.subtitle.c_str(),
              skipped(capture->stats).c_str());
  return kExitOk;
}

}  // namespace

const Command kPlotCommand = {
    .name = kName,
    .summary = "draw a TCP time-sequence graph of a pcap capture",
    .usage =
        "usage: veer plot FILE.pcap -o OUT.png|OUT.svg [--conn N | --port P] [--reverse]\n"
        "                 [--width W] [--height H]\n"
        "       veer plot FILE.pcap --list\n"
        "\n"
        "Draws the time-sequence graph of one TCP connection in a capture (tcpdump -w,\n"
        "or veer's capture knob): relative sequence number against time for one\n"
        "direction's data, each segment a vertical bar, retransmissions in red, the\n"
        "receiver's ACK (green) and ACK + receive window (yellow, scaled by the window\n"
        "scale the SYNs negotiated) as step lines, its SACK blocks in purple, and\n"
        "SYN, FIN and RST of both sides marked. The extension of OUT chooses PNG or SVG.\n"
        "\n"
        "Options:\n"
        "  -o, --output OUT  the image to write (.png or .svg)\n"
        "  -l, --list        list the capture's connections with their numbers\n"
        "  --conn N          plot connection N of --list\n"
        "  --port P          plot the connection with the most data that has port P\n"
        "  --reverse         the other direction (default: the one with more data)\n"
        "  --width W, --height H  image size in pixels (default 1000 x 650)\n"
        "\n"
        "Default: the connection with the most data. Frames that are not IPv4/TCP\n"
        "are passed over; broken ones are counted and skipped. Exit status 1 when the\n"
        "file cannot be read or holds no TCP connection.\n",
    .run = run,
};

}  // namespace veer::tools
