#include "gdb_server.h"

#include <fmt/format.h>

#include <charconv>
#include <vector>

#include "core/outcome.h"
#include "monitor.h"
#include "td_driver.h"
#include "x86_regs.h"

namespace tdsim::gdbstub {

std::optional<uint16_t> parse_loopback_endpoint(std::string_view text, std::string* why) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    *why = fmt::format("'{}' is not HOST:PORT", text);
    return std::nullopt;
  }
  const std::string_view host = text.substr(0, colon), port = text.substr(colon + 1);
  if (host != "127.0.0.1" && host != "localhost") {
    *why = fmt::format("'{}': only 127.0.0.1 (loopback) is allowed, not '{}'", text, host);
    return std::nullopt;
  }
  unsigned v = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || v > 65535) {
    *why = fmt::format("'{}': port '{}' is not a number in [0, 65535]", text, port);
    return std::nullopt;
  }
  return static_cast<uint16_t>(v);
}

namespace {

// One connected gdb driving one TdDriver.
class Conversation {
 public:
  Conversation(RspSocket& s, TdDriver& d, const OutcomeTracker& outcome, uint32_t nr_vcpus)
      : sock_(s), drv_(d), outcome_(outcome), nr_(nr_vcpus) {}

  // Returns when the conversation is over: true = let the TD run on without gdb.
  bool run();

 private:
  enum class Next { kContinue, kDetach, kKill, kOver };
  Next handle(const std::string& p);
  Next report(TdDriver::StopInfo s);
  std::string query(const std::string& p);
  std::string read_memory(const std::string& args);
  std::string write_memory(const std::string& args);
  std::string breakpoint(const std::string& p);
  Next vcont(const std::string& p);
  uc_engine* reg_engine() { return drv_.session().vcpu(g_vcpu_).engine(); }
  // gdb thread id (hex; 0 = any, -1 = all) -> vCPU index, nullopt if unknown.
  std::optional<uint32_t> thread(std::string_view id, uint32_t any) const;

  RspSocket& sock_;
  TdDriver& drv_;
  const OutcomeTracker& outcome_;
  uint32_t nr_;
  uint32_t g_vcpu_ = 0, c_vcpu_ = 0, stop_vcpu_ = 0;
  std::string last_stop_ = "T05thread:01;";
};

std::optional<uint32_t> Conversation::thread(std::string_view id, uint32_t any) const {
  if (id == "-1" || id == "0") return any;
  const auto v = parse_hex_u64(id);
  if (!v || *v == 0 || *v > nr_) return std::nullopt;
  return static_cast<uint32_t>(*v - 1);
}

bool Conversation::run() {
  for (;;) {
    const auto item = sock_.wait_item();
    if (!item) return true;  // gdb went away: like a detach
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
    switch (handle(item->payload)) {
      case Next::kContinue: continue;
      case Next::kDetach: return true;
      case Next::kKill: return false;
      case Next::kOver: return false;
    }
  }
}

Conversation::Next Conversation::report(TdDriver::StopInfo s) {
  using Stop = TdDriver::Stop;
  if (s.why == Stop::kEnded || s.why == Stop::kBudget) {
    // The exit status is the one tdsim exits with (0 DONE, 1 assert, 2 fault, 3 budget).
    sock_.send_packet(fmt::format("W{:02x}", exit_code(outcome_.outcome())));
    return Next::kOver;
  }
  g_vcpu_ = c_vcpu_ = stop_vcpu_ = s.vcpu;
  const char* sig = s.why == Stop::kInterrupted ? "02" : "05";
  const char* reason = s.why == Stop::kBreakpoint ? "swbreak:;" : "";
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
  // All engines map the same host memory: the selected one is as good as any. A read
  // that runs into unmapped space returns what came before it, as gdb expects.
  size_t n = buf.size();
  if (uc_mem_read(reg_engine(), *addr, buf.data(), n) != UC_ERR_OK)
    for (n = 0; n < buf.size() && uc_mem_read(reg_engine(), *addr + n, &buf[n], 1) == UC_ERR_OK;) ++n;
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
  if (*len && uc_mem_write(reg_engine(), *addr, bytes->data(), bytes->size()) != UC_ERR_OK) return "E14";
  drv_.code_written(*addr, *len);
  return "OK";
}

std::string Conversation::breakpoint(const std::string& p) {
  // Z0/z0 only; hardware breakpoints and watchpoints get "" (gdb falls back or says so).
  if (p.size() < 3 || p[1] != '0' || p[2] != ',') return "";
  const size_t comma = p.find(',', 3);
  const auto addr = parse_hex_u64(std::string_view(p).substr(3, comma == std::string::npos ? comma : comma - 3));
  if (!addr) return "E01";
  if (p[0] == 'Z')
    drv_.add_breakpoint(*addr);
  else
    drv_.remove_breakpoint(*addr);
  return "OK";
}

std::string Conversation::query(const std::string& p) {
  if (p.starts_with("qSupported"))
    return fmt::format("PacketSize={:x};swbreak+;vContSupported+", kMaxPacketPayload);
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
    return v ? to_hex(fmt::format("vCPU {}{}", *v, drv_.session().vcpu(*v).stopped() ? " (ended)" : "")) : "E01";
  }
  if (p.starts_with("qSymbol")) return "OK";
  if (p.starts_with("qRcmd,")) {
    const auto cmd = from_hex(std::string_view(p).substr(6));
    if (!cmd) return "E01";
    // gdb does not say which thread is selected for a monitor command: "cr N" names the
    // vCPU, else it is the one of the last stop. Hex text is printed as the output.
    std::string text(cmd->begin(), cmd->end());
    uint32_t v = stop_vcpu_;
    if (const size_t sp = text.find(' '); sp != std::string::npos) {
      unsigned n = 0;
      const auto [end, ec] = std::from_chars(text.data() + sp + 1, text.data() + text.size(), n);
      if (ec != std::errc() || end != text.data() + text.size() || n >= nr_)
        return to_hex(fmt::format("no vCPU '{}' (this TD has {})\n", text.substr(sp + 1), nr_));
      v = n;
      text.resize(sp);
    }
    return to_hex(monitor_command(text, drv_.session().vcpu(v).engine(), v));
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
  if (step) return report(drv_.step(*step));
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
    case 'g': r = to_hex(read_all_registers(reg_engine()).data(), g_packet_bytes()); break;
    case 'G': {
      const auto b = from_hex(rest);
      r = b && write_all_registers(reg_engine(), *b) ? "OK" : "E01";
      break;
    }
    case 'p': {
      const auto n = parse_hex_u64(rest);
      const auto v = n && *n < amd64_registers().size() ? read_register(reg_engine(), static_cast<unsigned>(*n)) : std::nullopt;
      r = v ? to_hex(v->data(), v->size()) : "";  // "": not in our file (orig_rax, fs_base...)
      break;
    }
    case 'P': {
      const size_t eq = rest.find('=');
      const auto n = parse_hex_u64(std::string_view(rest).substr(0, eq));
      const auto b = eq == std::string::npos ? std::nullopt : from_hex(std::string_view(rest).substr(eq + 1));
      r = n && *n < amd64_registers().size() && b && write_register(reg_engine(), static_cast<unsigned>(*n), *b) ? "OK" : "E01";
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
        if (!a) { r = "E01"; break; }
        uc_reg_write(drv_.session().vcpu(c_vcpu_).engine(), UC_X86_REG_RIP, &*a);
      }
      if (p[0] == 's') return report(drv_.step(c_vcpu_));
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

void GdbServer::serve(sim::Session& session, const RunLimits& limits, const EventSink& sink,
                      std::chrono::milliseconds client_wait) {
  if (!socket_.accept_client(client_wait))
    throw GdbNoClientError(fmt::format("gdb stub: no gdb connected to 127.0.0.1:{} within {} ms; the TD did not run",
                                       socket_.port(), client_wait.count()));
  OutcomeTracker outcome(session.nr_vcpus());
  TdDriver driver(session, limits, [&](const Event& e) {
    outcome.add(e);
    sink(e);
  });
  Conversation talk(socket_, driver, outcome, session.nr_vcpus());
  if (!talk.run()) return;
  // Detached: the TD runs to its end like a plain `tdsim run` (budgets still apply).
  driver.clear_breakpoints();
  while (!driver.ended() && !driver.over_budget()) driver.resume(0, nullptr);
}

}  // namespace tdsim::gdbstub
