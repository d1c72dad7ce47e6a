// `tdsim probe`: what this host can run, and for each backend why not.
// Exit 0 always: a probe that finds no KVM has still answered the question.
#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <iostream>

#include "commands.h"
#include "kvm/probe.h"

namespace tdsim::cli {

namespace po = boost::program_options;

int cmd_probe(const std::vector<std::string>& args) {
  po::options_description desc("tdsim probe");
  desc.add_options()("help,h", "this help");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  po::notify(vm);
  fmt::print("{}", kvm::describe(kvm::probe_host()));
  fmt::print("unicorn: can run (emulator, no host requirements)\n");
  return 0;
}

}  // namespace tdsim::cli
