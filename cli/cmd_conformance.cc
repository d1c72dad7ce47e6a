// `tdsim conformance`: run the conformance guest on a backend and print KTAP; exit 0
// when no check failed, 1 when one did, 4 when all were skipped (among them: the
// backend cannot run on this host, every check then a SKIP with the reason).
#include <fmt/format.h>

#include <boost/program_options.hpp>

#include "backends.h"
#include "commands.h"
#include "parse_args.h"
#include "core/outcome.h"
#include "conformance/runner.h"
#include "run_options.h"
#include "suite_on_backend.h"

namespace tdsim::cli {

namespace po = boost::program_options;

int cmd_conformance(const std::vector<std::string>& args) {
  conformance::SuiteOptions opts;
  std::string backend = "unicorn";
  std::string vcpus = std::to_string(opts.nr_vcpus), gpaw = std::to_string(opts.gpaw);
  std::string max_insns = std::to_string(opts.limits.max_insns);
  std::string timeout_ms = std::to_string(opts.limits.timeout.count());
  po::options_description desc("tdsim conformance [options]");
  desc.add_options()
      ("backend", po::value(&backend)->default_value(backend), "unicorn | kvm | kvm-tdx | auto")
      ("vcpus", po::value(&vcpus)->default_value(vcpus), "vCPUs (each checks its own index)")
      ("gpaw", po::value(&gpaw)->default_value(gpaw), "guest physical address width: 48 or 52")
      ("max-insns", po::value(&max_insns)->default_value(max_insns), "instruction budget over all vCPUs")
      ("timeout-ms", po::value(&timeout_ms)->default_value(timeout_ms), "wall-clock budget");
  if (!parse_args(desc, args)) return 0;
  opts.nr_vcpus = static_cast<uint32_t>(parse_number(vcpus, "vcpus", 0, UINT32_MAX));
  opts.gpaw = static_cast<uint32_t>(parse_number(gpaw, "gpaw", 0, UINT32_MAX));
  opts.limits = RunLimits{parse_number(max_insns, "max-insns", 1, UINT64_MAX),
                          std::chrono::milliseconds(parse_number(timeout_ms, "timeout-ms", 1, 86'400'000))};
  const conformance::SuiteResult r = suite_on_backend(backend_info(backend), opts);
  conformance::print_ktap(stdout, r);
  return conformance::exit_code(r);
}

}  // namespace tdsim::cli
