// Option parsing every subcommand shares: adds --help, parses, prints the help text.
#pragma once
#include <boost/program_options.hpp>
#include <string>
#include <vector>

namespace tdsim::cli {

// Parses `args` against `desc` (plus --help). Returns false when --help was given and
// the help text has been printed; the caller then exits 0. Throws
// boost::program_options::error for bad options (main() maps it to a usage error).
bool parse_args(boost::program_options::options_description& desc, const std::vector<std::string>& args,
                boost::program_options::variables_map* out = nullptr);

}  // namespace tdsim::cli
