// `tdsim validate`: the one-command validation matrix (docs/running-on-tdx.md). For every
// backend in the registry, in its order: probe (can it run here?), run the image (DONE
// expected), the conformance suite, diff with the reference backend, and measure (the
// live TDREPORT's MRTD against the prediction, where a real TD wrote it). One KTAP
// report (validate_report.h); every step has the --timeout / --max-insns budget.
// Backends are told apart by BackendCaps, never by name.
#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <optional>

#include "backends.h"
#include "bootstub/host/image_builder.h"
#include "bootstub/measure/mrtd.h"
#include "commands.h"
#include "core/event_diff.h"
#include "core/outcome.h"
#include "parse_args.h"
#include "run_options.h"
#include "sim/engine_limits.h"
#include "suite_on_backend.h"
#include "validate_report.h"

namespace tdsim::cli {

namespace po = boost::program_options;

namespace {

using Status = StepResult::Status;

struct RunStep {
  StepResult step;
  std::optional<std::vector<Event>> events;  // empty when the backend failed
};

// Runs the image once; the events are kept for the diff step.
RunStep run_image(const host::BackendInfo& info, const TdImage& image, const RunLimits& limits) {
  RunStep r;
  r.step.name = "run";
  try {
    const std::unique_ptr<Backend> backend = info.make_backend({});
    if (info.caps.in_process_engines) {
      // As `tdsim run` does: an engine that cannot get its address space would exit(1)
      // inside Unicorn; this throws a BackendError first.
      uint64_t guest_bytes = 0;
      for (const Region& reg : image.regions) guest_bytes += reg.size;
      sim::check_address_space_for_engines(image.nr_vcpus + 1, guest_bytes);
    }
    std::vector<Event> events = run_collect(*backend, image, limits);
    const Outcome outcome = classify(events, image.nr_vcpus);
    r.step.notes.push_back(fmt::format("{} events, outcome {}", events.size(), to_string(outcome)));
    if (outcome == Outcome::kDone) {
      r.step.status = Status::kPass;
    } else {
      r.step.status = outcome == Outcome::kBudget ? Status::kTimeout : Status::kFail;
      r.step.reason = fmt::format("outcome {}, expected DONE", to_string(outcome));
      for (const Event& e : events) {
        const auto* u = std::get_if<UcallEvent>(&e);
        const bool done = u && u->cmd == abi::kUcallDone;
        if ((is_terminal(e) && !done) || std::holds_alternative<BudgetExceededEvent>(e)) {
          r.step.reason += ": " + describe(e);  // the first thing that went wrong
          break;
        }
      }
    }
    r.events = std::move(events);
  } catch (const std::exception& e) {
    r.step.status = Status::kError;
    r.step.reason = e.what();
  }
  return r;
}

StepResult conformance_on(const host::BackendInfo& info, const conformance::SuiteOptions& opts) {
  try {
    return conformance_step(suite_on_backend(info, opts));
  } catch (const std::exception& e) {
    StepResult s;
    s.name = "conformance";
    s.status = Status::kError;
    s.reason = e.what();
    return s;
  }
}

// `backend` against `reference` (the registry entry itself, or null when none can run).
StepResult diff_with_reference(const host::BackendInfo& backend, const std::optional<std::vector<Event>>& events,
                               const host::BackendInfo* reference, const std::optional<std::vector<Event>>& ref_events,
                               uint32_t nr_vcpus) {
  if (!reference) return skipped_step("diff", "no in-process backend can run here to compare with");
  if (&backend == reference)
    return skipped_step("diff", "this is the reference backend: each other backend is compared with it");
  if (!ref_events) return skipped_step("diff", fmt::format("the run on the reference {} did not complete", reference->name));
  if (!events) return skipped_step("diff", "the run did not complete");
  StepResult s;
  s.name = "diff";
  const auto d = first_divergence(*ref_events, *events, nr_vcpus);
  if (!d) {
    s.status = Status::kPass;
    s.notes.push_back(fmt::format("same ucalls on every vCPU and the same outcome as {}", reference->name));
    return s;
  }
  s.status = Status::kFail;
  if (d->vcpu) {
    s.reason = fmt::format("first divergence from {} at vcpu {} ucall #{}", reference->name, *d->vcpu, d->index);
  } else {
    s.reason = fmt::format("same ucalls as {}, different outcome", reference->name);
  }
  s.notes.push_back(fmt::format("{}: {}", reference->name, d->left));
  s.notes.push_back(fmt::format("{}: {}", backend.name, d->right));
  return s;
}

}  // namespace

int cmd_validate(const std::vector<std::string>& args) {
  RunOptions ro;
  ro.timeout_s = 30;  // per step: the conformance suite runs longer than a plain image
  po::options_description desc(
      "tdsim validate [options]\n"
      "On every backend: probe, run the image, conformance, diff with the reference backend,\n"
      "measure. One KTAP report; exit 0 pass, 1 a step failed, 4 all skipped, 70 backend error.\n"
      "--timeout and --max-insns are each step's budget");
  desc.add(run_options_description(ro));
  if (!parse_args(desc, args)) return 0;

  // Everything a usage error can come from, before the first line of the report.
  const LayoutSpec spec = to_layout_spec(ro);
  const TdImage image = build_image(spec);
  const RunLimits limits = to_run_limits(ro);
  conformance::SuiteOptions suite_opts;
  suite_opts.gpaw = spec.gpaw;
  suite_opts.stub = spec.stub;
  suite_opts.stub_name = spec.stub_name;
  suite_opts.limits = limits;
  const std::string predicted_mrtd = measure::predict_mrtd(conformance::build_suite_image(suite_opts)).hex();

  // The reference: the first backend (registry order) with in-process engines that can
  // run here, run first so every other backend's diff can use its events.
  const std::vector<host::BackendInfo>& all = host::backends();
  const host::BackendInfo* reference = nullptr;
  for (const host::BackendInfo& b : all)
    if (b.caps.in_process_engines && b.unavailable().empty()) {
      reference = &b;
      break;
    }
  std::optional<RunStep> reference_run;
  if (reference) reference_run = run_image(*reference, image, limits);

  print_validate_header(
      stdout, all.size(),
      {fmt::format("tdsim validate: {} on {} vCPU(s); each step's budget: {} s, {} instructions where counted",
                   spec.guest_elf_name, image.nr_vcpus, ro.timeout_s,
                   limits.max_insns == UINT64_MAX ? std::string("no limit on") : std::to_string(limits.max_insns)),
       reference ? fmt::format("reference backend for diff: {}", reference->name)
                 : std::string("no in-process backend can run here: every diff is a SKIP")});
  std::vector<BackendReport> reports;
  for (size_t i = 0; i < all.size(); ++i) {
    const host::BackendInfo& info = all[i];
    BackendReport r{info.name, {}};
    if (const std::string why = unavailable_reason(info); !why.empty()) {
      for (const char* step : {"probe", "run", "conformance", "diff", "measure"}) r.steps.push_back(skipped_step(step, why));
    } else {
      StepResult probe;
      probe.name = "probe";
      probe.status = Status::kPass;
      probe.notes.push_back(info.name + " can run on this host");
      RunStep run = &info == reference ? *reference_run : run_image(info, image, limits);
      StepResult conf = conformance_on(info, suite_opts);
      StepResult diff = diff_with_reference(info, run.events, reference,
                                            reference_run ? reference_run->events : std::nullopt, image.nr_vcpus);
      StepResult measure = measure_step(info.caps, info.name, conf, predicted_mrtd);
      r.steps = {std::move(probe), std::move(run.step), std::move(conf), std::move(diff), std::move(measure)};
    }
    print_backend_report(stdout, i + 1, r);
    reports.push_back(std::move(r));
  }
  print_validate_totals(stdout, reports);
  return validate_exit_code(reports);
}

}  // namespace tdsim::cli
