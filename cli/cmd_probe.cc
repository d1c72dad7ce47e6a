// `tdsim probe`: what this host can run, and for each backend why not.
// Exit 0 always: a probe that finds no KVM has still answered the question.
#include <fmt/format.h>

#include <boost/program_options.hpp>

#include "commands.h"
#include "parse_args.h"
#include "core/text_escape.h"
#include "host/registry.h"
#include "kvm/probe.h"

namespace tdsim::cli {

namespace po = boost::program_options;

int cmd_probe(const std::vector<std::string>& args) {
  po::options_description desc("tdsim probe");
  if (!parse_args(desc, args)) return 0;
  fmt::print("{}", kvm::describe(kvm::probe_host()));
  fmt::print("unicorn: can run (emulator, no host requirements)\n");
  // The TD CPUID a guest sees, where a backend cannot answer CPUID from the model itself.
  for (const host::BackendInfo& b : host::backends()) {
    if (!b.cpuid_fidelity || (b.unavailable && !b.unavailable().empty())) continue;
    const CpuidFidelity f = b.cpuid_fidelity();
    if (f.exact())
      fmt::print("{}: the guest's CPUID shows the TD CPUID model\n", b.name);
    else
      fmt::print("{}: the guest's CPUID differs from the TD CPUID model: {}\n", b.name, escape_text(f.describe()));
  }
  return 0;
}

}  // namespace tdsim::cli
