#include "gdb_server.h"

#include <fmt/format.h>

#include <array>
#include <cstring>
#include <optional>
#include <vector>

#include "monitor.h"
#include "run_control.h"
#include "target_description.h"
#include "x86_regs.h"

namespace tdsim::gdbstub {

namespace {

// One connected gdb driving one debug target.
class Conversation {
 public:
  Conversation(RspSocket& s, RunControl& d)
      : sock_(s), drv_(d), target_(d.target()), nr_(target_.nr_vcpus()), layout_(current_layout(target_, 0)) {}

  // Returns when the conversation is over: kDetached = let the TD run on without gdb.
  GdbServer::FollowEnd run();

 private:
  enum class Next { kContinue, kDetach, kKill, kOver };
  Next handle(const std::string& p);
  Next report(RunControl::StopInfo s);
  std::string query(const std::string& p);
  std::string read_memory(const std::string& args);
  std::string write_memory(const std::string& args);
  std::string breakpoint(const std::string& p);
  Next vcont(const std::string& p);
  // gdb thread id (hex; 0 = any, -1 = all) -> vCPU index, nullopt if unknown.
  std::optional<uint32_t> thread(std::string_view id, uint32_t any) const;

  RspSocket& sock_;
  RunControl& drv_;
  DebugTarget& target_;
  uint32_t nr_;
  uint32_t g_vcpu_ = 0, c_vcpu_ = 0, stop_vcpu_ = 0;
  // The register layout gdb uses: the description it read last (it reads one when it
  // connects and on `unset tdesc filename`), which is the mode the vCPU was in then.
  Layout layout_;
  // gdb has a symbol file (it asked for qOffsets or qSymbol): an x86-64 ELF, which
  // makes gdb reject the i386 description, so only the amd64 one is served.
  bool has_elf_ = false;
  std::string last_stop_ = "T05thread:01;";
};

std::optional<uint32_t> Conversation::thread(std::string_view id, uint32_t any) const {
  if (id == "-1" || id == "0") return any;
  const auto v = parse_hex_u64(id);
  if (!v || *v == 0 || *v > nr_) return std::nullopt;
  return static_cast<uint32_t>(*v - 1);
}

GdbServer::FollowEnd Conversation::run() {
  using End = GdbServer::FollowEnd;
  for (;;) {
    const auto item = sock_.wait_item();
    if (!item) return End::kDetached;  // gdb went away: like a detach
    switch (item->kind) {
      case RspItem::Kind::kAck: continue;
      case RspItem::Kind::kNack: sock_.resend_last(); continue;
      case RspItem::Kind::kBadChecksum: sock_.send_raw("-"); continue;
      // Longer than the PacketSize we advertised: dropped unread; a NAK, as for a
      // corrupted packet (gdb retries a few times, then reports the error).
      case RspItem::Kind::kOversized: sock_.send_raw("-"); continue;
      case RspItem::Kind::kInterrupt: sock_.send_packet(last_stop_); continue;  // already stopped
      case RspItem::Kind::kPacket: break;
    }
    sock_.send_raw("+");
    Next next;
    {
      // A request that runs the TD must not hold the target (the vCPUs' threads need it);
      // any other reads or writes it between runs.
      const std::string& p = item->payload;
      const bool runs = !p.empty() && (p[0] == 's' || p[0] == 'c' || p.starts_with("vCont;"));
      if (!runs) drv_.lock_target();
      try {
        next = handle(p);
      } catch (...) {
        if (!runs) drv_.unlock_target();
        throw;
      }
      if (!runs) drv_.unlock_target();
    }
    switch (next) {
      case Next::kContinue: continue;
      case Next::kDetach: return End::kDetached;
      case Next::kKill: return End::kKilled;
      case Next::kOver: return End::kOver;
    }
  }
}

Conversation::Next Conversation::report(RunControl::StopInfo s) {
  using Stop = RunControl::Stop;
  if (s.why == Stop::kEnded || s.why == Stop::kBudget) {
    // The exit status is the one tdsim exits with (docs/architecture.md, the outcome table).
    sock_.send_packet(fmt::format("W{:02x}", drv_.exit_status() & 0xff));
    return Next::kOver;
  }
  g_vcpu_ = c_vcpu_ = stop_vcpu_ = s.vcpu;
  const char* sig = s.why == Stop::kInterrupted ? "02" : "05";
  std::string reason;
  if (s.why == Stop::kBreakpoint) reason = "swbreak:;";
  if (s.why == Stop::kWatchpoint) {
    const char* kind = s.watch == WatchKind::kWrite ? "watch" : s.watch == WatchKind::kRead ? "rwatch" : "awatch";
    reason = fmt::format("{}:{:x};", kind, s.watch_addr);
  }
  last_stop_ = fmt::format("T{}{}thread:{:x};", sig, reason, s.vcpu + 1);
  sock_.send_packet(last_stop_);
  return Next::kContinue;
}

std::string Conversation::read_memory(const std::string& args) {
  const size_t comma = args.find(',');
  const auto addr = parse_hex_u64(std::string_view(args).substr(0, comma));
  const auto len = comma == std::string::npos ? std::nullopt : parse_hex_u64(std::string_view(args).substr(comma + 1));
  if (!addr || !len || *len > 0x10000) return "E01";
  std::vector<uint8_t> buf(*len);
  // By GVA through the selected vCPU's paging. A read that runs into unmapped space
  // returns what came before it, as gdb expects.
  const uint64_t n = target_.read_memory(g_vcpu_, *addr, buf.data(), buf.size());
  if (n == 0 && !buf.empty()) return "E14";
  return to_hex(buf.data(), n);
}

std::string Conversation::write_memory(const std::string& args) {
  const size_t comma = args.find(','), colon = args.find(':');
  if (comma == std::string::npos || colon == std::string::npos || colon < comma) return "E01";
  const auto addr = parse_hex_u64(std::string_view(args).substr(0, comma));
  const auto len = parse_hex_u64(std::string_view(args).substr(comma + 1, colon - comma - 1));
  const auto bytes = from_hex(std::string_view(args).substr(colon + 1));
  if (!addr || !len || !bytes || bytes->size() != *len) return "E01";
  if (*len && !target_.write_memory(g_vcpu_, *addr, bytes->data(), bytes->size())) return "E14";
  return "OK";
}

std::string Conversation::breakpoint(const std::string& p) {
  // Z0 (software) and Z1 (hardware) breakpoints are one thing here; Z2/Z3/Z4 are write,
  // read and access watchpoints. "Z<type>,<addr>,<kind>[;cond...]".
  if (p.size() < 3 || p[1] < '0' || p[1] > '4' || p[2] != ',') return "";
  const size_t comma = p.find(',', 3);
  if (comma == std::string::npos) return "E01";
  const auto addr = parse_hex_u64(std::string_view(p).substr(3, comma - 3));
  const size_t end = std::min(p.find(';', comma + 1), p.size());
  const auto kind = parse_hex_u64(std::string_view(p).substr(comma + 1, end - comma - 1));
  if (!addr || !kind) return "E01";
  const bool set = p[0] == 'Z';
  if (p[1] == '0' || p[1] == '1') {
    if (set)
      target_.add_breakpoint(*addr);
    else
      target_.remove_breakpoint(*addr);
    return "OK";
  }
  // For a watchpoint `kind` is the length in bytes.
  if (*kind == 0 || *kind > 0x10000) return "E01";
  const WatchKind w = p[1] == '2' ? WatchKind::kWrite : p[1] == '3' ? WatchKind::kRead : WatchKind::kAccess;
  if (set) return target_.add_watchpoint(w, *addr, *kind) ? "OK" : "E01";
  return target_.remove_watchpoint(w, *addr, *kind) ? "OK" : "E01";
}

std::string Conversation::query(const std::string& p) {
  if (p.starts_with("qSupported"))
    return fmt::format("PacketSize={:x};qXfer:features:read+;swbreak+;vContSupported+", kMaxPacketPayload);
  if (p.starts_with("qXfer:features:read:")) {
    // A read at offset 0 starts a new description: the one for the mode the selected
    // vCPU is in now; later chunks continue the same one.
    if (p.find(":0,") != std::string::npos) layout_ = has_elf_ ? Layout::kAmd64 : current_layout(target_, g_vcpu_);
    return features_read(std::string_view(p).substr(20), layout_);
  }
  if (p == "qOffsets") {
    // Asked while connecting, after the description and before the first 'g', only by
    // a gdb with a symbol file. If the description was i386 gdb rejected it ("Selected
    // architecture i386:x86-64 is not compatible") and uses its built-in amd64 file.
    has_elf_ = true;
    if (layout_ == Layout::kI386) layout_ = Layout::kAmd64Builtin;
    return "";  // no relocation: the ELF is loaded where it was linked
  }
  if (p == "qAttached") return "1";  // gdb detaches (the TD runs on) when it quits
  if (p == "qC") return fmt::format("QC{:x}", g_vcpu_ + 1);
  if (p == "qfThreadInfo") {
    std::string r = "m";
    for (uint32_t i = 0; i < nr_; ++i) r += fmt::format("{}{:x}", i ? "," : "", i + 1);
    return r;
  }
  if (p == "qsThreadInfo") return "l";
  if (p.starts_with("qThreadExtraInfo,")) {
    const auto v = thread(std::string_view(p).substr(17), g_vcpu_);
    return v ? to_hex(fmt::format("vCPU {}{}", *v, target_.ended(*v) ? " (ended)" : "")) : "E01";
  }
  if (p.starts_with("qSymbol")) {
    has_elf_ = true;  // gdb has a symbol file (loaded after connecting)
    return "OK";
  }
  if (p.starts_with("qRcmd,")) {
    const auto cmd = from_hex(std::string_view(p).substr(6));
    if (!cmd) return "E01";
    // gdb does not say which thread is selected for a monitor command: it is the one of
    // the last stop unless the command names one. Hex text is printed as the output.
    return to_hex(monitor_command(std::string(cmd->begin(), cmd->end()), target_, stop_vcpu_, layout_));
  }
  return "";
}

Conversation::Next Conversation::vcont(const std::string& p) {
  if (p == "vCont?") {
    sock_.send_packet("vCont;c;C;s;S");
    return Next::kContinue;
  }
  // "vCont;s:1;c": a step action wins (it names the vCPU to step; others stay put),
  // otherwise any continue action resumes every vCPU.
  std::optional<uint32_t> step;
  bool cont = false;
  size_t pos = 5;
  while (pos < p.size() && p[pos] == ';') {
    const size_t end = std::min(p.find(';', pos + 1), p.size());
    const std::string a = p.substr(pos + 1, end - pos - 1);
    const size_t colon = a.find(':');
    const uint32_t tid = colon == std::string::npos ? c_vcpu_ : thread(a.substr(colon + 1), c_vcpu_).value_or(c_vcpu_);
    if ((a[0] == 's' || a[0] == 'S') && !step) step = tid;
    if (a[0] == 'c' || a[0] == 'C') cont = true;
    pos = end;
  }
  if (step) return report(drv_.step(*step, [&] { return sock_.poll_interrupt(); }));
  if (cont) return report(drv_.resume(c_vcpu_, [&] { return sock_.poll_interrupt(); }));
  sock_.send_packet("E01");
  return Next::kContinue;
}

Conversation::Next Conversation::handle(const std::string& p) {
  std::string r;
  const std::string rest = p.empty() ? std::string() : p.substr(1);
  switch (p.empty() ? '\0' : p[0]) {
    case '?': r = last_stop_; break;
    case 'q': r = query(p); break;
    case 'H': {
      const auto v = p.size() > 2 ? thread(std::string_view(p).substr(2), p[1] == 'g' ? g_vcpu_ : c_vcpu_) : std::nullopt;
      if (!v) { r = "E01"; break; }
      (p[1] == 'g' ? g_vcpu_ : c_vcpu_) = *v;
      r = "OK";
      break;
    }
    case 'T': r = thread(rest, 0) ? "OK" : "E01"; break;
    case 'g': r = to_hex(read_all_registers(target_, g_vcpu_, layout_).data(), g_packet_bytes(layout_)); break;
    case 'G': {
      const auto b = from_hex(rest);
      r = b && write_all_registers(target_, g_vcpu_, layout_, *b) ? "OK" : "E01";
      break;
    }
    case 'p': {
      const auto n = parse_hex_u64(rest);
      const auto v = n && *n < gdb_registers(layout_).size() ? read_register(target_, g_vcpu_, layout_, static_cast<unsigned>(*n)) : std::nullopt;
      r = v ? to_hex(v->data(), v->size()) : "";  // "": not in the described file
      break;
    }
    case 'P': {
      const size_t eq = rest.find('=');
      const auto n = parse_hex_u64(std::string_view(rest).substr(0, eq));
      const auto b = eq == std::string::npos ? std::nullopt : from_hex(std::string_view(rest).substr(eq + 1));
      r = n && *n < gdb_registers(layout_).size() && b && write_register(target_, g_vcpu_, layout_, static_cast<unsigned>(*n), *b) ? "OK" : "E01";
      break;
    }
    case 'm': r = read_memory(rest); break;
    case 'M': r = write_memory(rest); break;
    case 'Z':
    case 'z': r = breakpoint(p); break;
    case 's':
    case 'c': {
      if (!rest.empty()) {  // "s addr" / "c addr": resume at addr
        const auto a = parse_hex_u64(rest);
        const unsigned pc = pc_regnum(layout_);
        std::array<uint8_t, 8> b{};
        if (a) std::memcpy(b.data(), &*a, b.size());
        if (!a || !write_register(target_, c_vcpu_, layout_, pc, std::span(b.data(), gdb_registers(layout_)[pc].size))) {
          r = "E01";
          break;
        }
      }
      if (p[0] == 's') return report(drv_.step(c_vcpu_, [&] { return sock_.poll_interrupt(); }));
      return report(drv_.resume(c_vcpu_, [&] { return sock_.poll_interrupt(); }));
    }
    case 'v':
      if (p.starts_with("vCont")) return vcont(p);
      if (p.starts_with("vKill")) {
        sock_.send_packet("OK");
        return Next::kKill;
      }
      break;  // vMustReplyEmpty and everything else: ""
    case 'D': sock_.send_packet("OK"); return Next::kDetach;
    case 'k': return Next::kKill;
    default: break;
  }
  sock_.send_packet(r);
  return Next::kContinue;
}

}  // namespace

void GdbServer::accept(std::chrono::milliseconds client_wait) {
  if (!socket_.accept_client(client_wait))
    throw GdbNoClientError(fmt::format("gdb stub: no gdb connected to 127.0.0.1:{} within {} ms; the TD did not run",
                                       socket_.port(), client_wait.count()));
}

void GdbServer::serve(DebugTarget& target, const RunLimits& limits, const EventSink& sink,
                      std::chrono::milliseconds client_wait) {
  accept(client_wait);
  LeadingRunControl driver(target, limits, sink);
  Conversation talk(socket_, driver);
  if (talk.run() != FollowEnd::kDetached) return;
  // Detached: the TD runs to its end like a plain `tdsim run` (budgets still apply).
  target.clear_breakpoints_and_watchpoints();
  while (!driver.ended() && !driver.over_budget()) driver.resume(0, nullptr);
}

GdbServer::FollowEnd GdbServer::follow(FollowingRunControl& control, std::chrono::milliseconds client_wait) {
  accept(client_wait);
  // The conversation reads the vCPU's mode for its first description: under the target's lock.
  std::optional<Conversation> talk;
  control.lock_target();
  try {
    talk.emplace(socket_, control);
  } catch (...) {
    control.unlock_target();
    throw;
  }
  control.unlock_target();
  const FollowEnd end = talk->run();
  if (end != FollowEnd::kKilled) control.detach();
  return end;
}

}  // namespace tdsim::gdbstub
