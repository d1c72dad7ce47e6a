// `tdsim run`: build the image, lint it (findings to stderr, never a refusal), run it on
// one backend, print events as they arrive (text or JSON lines) with fault reports under
// them; optional traces (their own sink) and boot-stub coverage.
#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cmath>
#include <optional>

#include "backends.h"
#include "bootstub/host/image_builder.h"
#include "core/outcome.h"
#include "commands.h"
#include "parse_args.h"
#include "devices/firmware_platform.h"
#include "diag/lint.h"
#include "event_printer.h"
#include "firmware/tdvf_image.h"
#include "gdbstub/gdb_server.h"
#include "host/replay.h"
#include "run_options.h"
#include "run_trace.h"
#include "td_config_options.h"
#include "sim/engine.h"
#include "sim/engine_limits.h"
#include "sink_guard.h"
#include "core/text_escape.h"
#include "sim/trace.h"

namespace tdsim::cli {

namespace po = boost::program_options;

namespace {

// Lint before booting: the run still happens, so the run shows what the finding means.
std::pair<size_t, size_t> lint_to_stderr(const TdImage& image) {
  const auto findings = diag::lint_image(image);
  for (const auto& f : findings) fmt::print(stderr, "tdsim lint: {}\n", escape_text(diag::format_finding(f)));
  const size_t errors = diag::count_errors(findings);
  if (!findings.empty())
    fmt::print(stderr, "tdsim lint: {} error(s), {} warning(s); running anyway\n", errors,
               findings.size() - errors);
  std::fflush(stderr);
  return {errors, findings.size() - errors};
}

// "backends that offer one: unicorn" from the registry's capabilities.
std::string debug_backends() {
  std::string names;
  for (const host::BackendInfo& b : host::backends())
    if (b.caps.debug_target) names += (names.empty() ? "" : ", ") + b.name;
  return names.empty() ? "no backend offers one" : "backends that offer one: " + names;
}

}  // namespace

int cmd_run(const std::vector<std::string>& args) {
  // The wall-clock budget covers set-up too (reading files, building the image, making
  // the engines ready): a hostile image must not spend minutes before the run's own
  // watchdog is armed.
  const auto started = std::chrono::steady_clock::now();
  RunOptions ro;
  double gdb_wait_s = 300;
  std::string backend_name = "unicorn", format_name = "text", trace_list, trace_file, gdb_endpoint, firmware_path;
  po::options_description desc("tdsim run [options]");
  desc.add_options()
      ("backend", po::value(&backend_name)->default_value(backend_name), "unicorn | kvm | kvm-tdx | auto")
      ("format", po::value(&format_name)->default_value(format_name), "event output on stdout: text | json | ktap")
      ("trace", po::value(&trace_list),
       "comma list of insn, boot, tdcall, ucall (or all); insn/boot/tdcall need --backend unicorn")
      ("trace-file", po::value(&trace_file), "write trace lines (and --coverage) here instead of stderr")
      ("coverage", "after the run, list the boot-stub instructions and mark those that never ran (unicorn)")
      ("no-lint", "do not lint the image before running")
      ("firmware", po::value(&firmware_path),
       "TDVF firmware (OVMF with TDX) to boot from its reset vector instead of a guest and stub, laid out "
       "and given a TD HOB as QEMU does; --mem is the TD's RAM (docs/firmware.md)")
      ("gdb", po::value(&gdb_endpoint),
       "127.0.0.1:PORT: wait for gdb there (0 = a free port) and let it drive the TD (backends with a debug target)")
      ("gdb-wait", po::value(&gdb_wait_s)->default_value(gdb_wait_s),
       "seconds --gdb waits for gdb to connect before giving up (exit 70); the --timeout budget "
       "starts when gdb connects");
  desc.add(run_options_description(ro));
  TdConfigOptions tdo;
  desc.add(td_config_description(tdo));
  po::variables_map vm;
  if (!parse_args(desc, args, &vm)) return 0;

  const OutputFormat format = parse_format(format_name);
  const TraceRequest trace = vm.count("trace") ? parse_trace(trace_list) : TraceRequest{};
  const bool coverage = vm.count("coverage") != 0;
  TdImage image = firmware_path.empty() ? build_image(to_layout_spec(ro)) : firmware_image(firmware_path, ro);
  if (!ro.stub.empty()) add_stub_symbols(image, ro.stub);
  tdx::TdxConfig td_config = to_td_config(tdo, image.nr_vcpus);
  RunLimits limits = to_run_limits(ro);
  if (!(gdb_wait_s > 0) || !std::isfinite(gdb_wait_s) || gdb_wait_s > 86400)
    throw UsageError(fmt::format("--gdb-wait: {} is not in (0, 86400] seconds", gdb_wait_s));
  const host::BackendInfo& info = backend_info(backend_name);
  std::optional<gdbstub::GdbServer> gdb;
  if (vm.count("gdb")) {
    std::string why;
    const auto port = gdbstub::parse_loopback_endpoint(gdb_endpoint, &why);
    if (!port) throw UsageError("--gdb: " + why);
    if (!info.caps.debug_target)
      throw UsageError(fmt::format("--gdb: backend {} offers no debug target; {}", info.name, debug_backends()));
    gdb.emplace(*port);
  }

  RunSummary summary;
  summary.backend = info.name;
  auto printer = make_printer(format, stdout, format == OutputFormat::kText && want_colour(stdout),
                              image.nr_vcpus);
  if (std::string why = unavailable_reason(info); !why.empty()) {
    summary.outcome = Outcome::kSkip;
    summary.skip_reason = std::move(why);
    printer->summary(summary);
    return kExitSkip;
  }
  // The linter checks tdsim's own layout; firmware brings its own.
  if (!vm.count("no-lint") && !image.tdvf)
    std::tie(summary.lint_errors, summary.lint_warnings) = lint_to_stderr(image);

  TraceOutput trace_out(trace_file);
  sim::StubCoverage stub_coverage;
  sim::TraceOptions topts;
  topts.insn = trace.insn, topts.boot = trace.boot, topts.tdcall = trace.tdcall;
  SinkGuard guard;  // every sink below runs inside the backend
  topts.sink = [&](const std::string& l) { guard([&] { trace_out.raw_line(l); }); };
  if (coverage) topts.coverage = &stub_coverage;
  host::BackendSetup setup;
  setup.config = std::move(td_config);
  const bool tracing = (trace.any_engine() || coverage) && info.caps.tracing;
  if (tracing) {
    setup.trace = &topts;
  } else if (trace.any_engine() || coverage) {
    fmt::print(stderr, "tdsim run: --trace insn/boot/tdcall and --coverage need a backend that traces, "
                       "such as unicorn ({} can only trace ucalls); ignored\n", info.name);
  }
  // Firmware talks to the machine's devices over port I/O: the VMM's models answer and
  // report every request (devices/firmware_platform.h).
  std::unique_ptr<devices::FirmwarePlatform> fw_devices;
  if (image.tdvf) {
    fw_devices = std::make_unique<devices::FirmwarePlatform>(
        devices::MachineDesc{image.nr_vcpus, firmware::q35_ram_map(parse_size(ro.mem, "mem")), image.shared_bit});
    setup.config.hooks.port_device = [p = fw_devices.get()](const tdx::PortRequest& r) { return p->access(r); };
    setup.config.hooks.memory_conversion = [p = fw_devices.get()](uint64_t gpa, uint64_t size, bool shared) {
      p->convert(gpa, size, shared);
    };
  }
  auto backend = info.make_backend(setup);

  if (info.caps.in_process_engines || gdb) {
    // Before any engine exists: Unicorn itself would exit(1) mid-run if one cannot get
    // its address space (read as a guest assert); this says so and exits 70.
    uint64_t guest_bytes = 0;
    for (const Region& r : image.regions) guest_bytes += r.size;
    // One engine per vCPU, plus the process's short-lived scratch engine (sim/scratch_engine.h).
    sim::check_address_space_for_engines(image.nr_vcpus + 1, guest_bytes);
  }

  // Streamed: each event is classified and counted as it passes, none is kept, so a
  // long run's memory does not grow with its length.
  OutcomeTracker outcome(image.nr_vcpus);
  const RunLimits replay_limits = limits;
  const EventSink on_event = [&](const Event& e) {
    outcome.add(e);
    guard([&] {
      if (trace.ucall)
        if (std::string l = ucall_trace_line(e); !l.empty()) trace_out.line(l);
      // A fault the backend could not look into (a real TD) is explained by replaying
      // the image on a backend that can (host/replay.h).
      if (const auto* f = std::get_if<FaultEvent>(&e); f && host::wants_replay(*f, info.caps.in_process_engines)) {
        FaultEvent explained = *f;
        for (std::string& l : host::replay_explanation(image, *f, replay_limits)) explained.explanation.push_back(std::move(l));
        printer->event(explained);
        return;
      }
      printer->event(e);
    });
  };
  if (gdb) {
    // The debugger drives the backend the user chose through its debug-target facet and
    // the common scheduler; the facet exists where caps.debug_target said so.
    std::unique_ptr<Vm> vm = info.make_vm ? info.make_vm(image, VmOptions{limits}, setup) : nullptr;
    DebugTarget* target = vm ? vm->debug_target() : nullptr;
    if (!target)
      throw BackendError(fmt::format("--gdb: backend {} did not provide the debug target its capabilities promise",
                                     info.name));
    fmt::print(stderr, "tdsim: waiting for gdb on 127.0.0.1:{}\n", gdb->port());
    std::fflush(stderr);
    // Waiting for a person to attach gdb is not set-up: the budget starts when gdb does.
    gdb->serve(*target, limits, on_event,
               std::chrono::milliseconds(static_cast<int64_t>(std::ceil(gdb_wait_s * 1000))));
  } else {
    const auto setup_time =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    if (setup_time >= limits.timeout) {
      // Set-up alone used the budget: report it as the backend's watchdog would.
      BudgetExceededEvent b;
      b.kind = BudgetExceededEvent::Kind::kWallClock;
      b.limit = static_cast<uint64_t>(limits.timeout.count());
      b.explanation.push_back(fmt::format("set-up (reading and building the image) took {} ms; no vCPU ran",
                                          setup_time.count()));
      on_event(b);
    } else {
      // The backend gets what set-up left; a wall-clock budget event still names the
      // budget the user gave, not the remainder.
      const RunLimits asked = limits;
      limits.timeout -= setup_time;
      // The process exits after this one run: its engines are not closed one by one
      // (sim/engine.h). Nothing is printed by closing them, and the outputs are
      // flushed before the exit as always. Only where the run's own engines are in
      // this process: a backend that is not gets its faults replayed on fresh engines
      // (host/replay.h), as many times as it faults, and those must be freed.
      if (info.caps.in_process_engines) sim::leave_engines_to_exit();
      backend->run(image, limits, [&](const Event& e) {
        const auto* b = std::get_if<BudgetExceededEvent>(&e);
        if (!b || b->kind != BudgetExceededEvent::Kind::kWallClock) return on_event(e);
        BudgetExceededEvent whole = *b;
        whole.limit = static_cast<uint64_t>(asked.timeout.count());
        on_event(whole);
      });
    }
  }
  // The firmware's last console words, if it died mid-line.
  if (fw_devices)
    for (const Event& e : fw_devices->flush()) on_event(e);
  guard.rethrow();
  if (coverage && tracing)
    for (const std::string& l : sim::format_stub_coverage(stub_coverage, image)) trace_out.raw_line(l);
  trace_out.flush();
  summary.outcome = outcome.outcome();
  summary.nr_events = outcome.events();
  printer->summary(summary);
  return exit_code(summary.outcome);
}

}  // namespace tdsim::cli
