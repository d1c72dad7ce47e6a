#include "parse_args.h"

#include <iostream>

namespace tdsim::cli {

namespace po = boost::program_options;

bool parse_args(po::options_description& desc, const std::vector<std::string>& args,
                po::variables_map* out) {
  desc.add_options()("help,h", "this help");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return false;
  }
  po::notify(vm);
  if (out) *out = std::move(vm);
  return true;
}

}  // namespace tdsim::cli
