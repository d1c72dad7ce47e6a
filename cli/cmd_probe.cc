// `tdsim probe`: what this host can run, and for each backend why not.
// Exit 0 always: a probe that finds no KVM has still answered the question.
#include <fmt/format.h>

#include <boost/program_options.hpp>

#include "commands.h"
#include "parse_args.h"
#include "kvm/probe.h"

namespace tdsim::cli {

namespace po = boost::program_options;

int cmd_probe(const std::vector<std::string>& args) {
  po::options_description desc("tdsim probe");
  if (!parse_args(desc, args)) return 0;
  fmt::print("{}", kvm::describe(kvm::probe_host()));
  fmt::print("unicorn: can run (emulator, no host requirements)\n");
  return 0;
}

}  // namespace tdsim::cli
